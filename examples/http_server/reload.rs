//! The data directory: one catalog per `DIR/{project_id}.json`, loaded at
//! start and reloaded while serving.
//!
//! Requests read a [`Snapshot`], the map of every project to its catalog,
//! through an [`ArcSwap`]: a reload builds a whole new snapshot on a blocking
//! thread (never on a request's path), then swaps it in with one atomic store.
//! A request sees the old snapshot or the new one, never a mix, and never
//! waits for a reload.
//!
//! A reload is started by a change in the directory (`notify`, which uses
//! inotify on Linux) or by SIGHUP (for file systems without change events,
//! or with `--no-watch`). Changes arriving together are read in one reload:
//! the reloader waits [`SETTLE`] after the first event before reading.
//!
//! On a reload, each file is read again and compared by its SHA-256 with what
//! was loaded; only a changed file is parsed. A changed file that fails to
//! parse (or cannot be read) keeps its project's previous data, and the error
//! is logged with the file, the record and the field: never a half-loaded
//! project. A removed file removes its project; a new one adds it. A file
//! whose name is not a project id is skipped with a warning (at start it
//! stops the server, as a mistake is likelier then).
//!
//! Writers should replace a file by writing a temporary file beside it whose
//! name does not end in `.json` and renaming it over the old one (atomic on
//! POSIX file systems). A file rewritten in place can be read half written:
//! usually that fails to parse and the previous data is kept until the write
//! completes, but an NDJSON file cut at a line's end is valid records.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use image_groups::{parse_records_bytes, Catalog};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// How long the reloader waits after a change event before reading the
/// directory, so that the events of one write (create, modify, close,
/// rename) lead to one reload.
pub const SETTLE: Duration = Duration::from_millis(50);

/// One loaded project.
#[derive(Clone)]
struct Project {
    catalog: Arc<Catalog>,
    /// SHA-256 of the file's bytes when it was parsed.
    digest: [u8; 32],
}

/// Every loaded project, as requests see it.
#[derive(Default)]
pub struct Snapshot {
    projects: HashMap<String, Project>,
}

impl Snapshot {
    /// The catalog of `project`, if its file is loaded.
    pub fn catalog(&self, project: &str) -> Option<&Catalog> {
        self.projects.get(project).map(|p| &*p.catalog)
    }

    /// How many projects are loaded.
    pub fn len(&self) -> usize {
        self.projects.len()
    }
}

/// What requests read and reloads replace.
pub type Store = Arc<ArcSwap<Snapshot>>;

/// A `{project_id}.json` file of the directory.
struct DataFile {
    project: String,
    path: PathBuf,
}

/// The directory's `*.json` files; `Err` names a file whose stem is not a
/// project id (with its path).
fn data_files(dir: &Path) -> Result<Vec<Result<DataFile, PathBuf>>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
            continue;
        }
        match path.file_stem().and_then(|stem| stem.to_str()) {
            Some(stem) if crate::is_project_id(stem) => files.push(Ok(DataFile {
                project: stem.to_string(),
                path,
            })),
            _ => files.push(Err(path)),
        }
    }
    Ok(files)
}

/// Reads and parses one file: its digest and catalog, or the message.
fn read(path: &Path, previous: Option<&Project>) -> Result<Project, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let digest: [u8; 32] = Sha256::digest(&bytes).into();
    if let Some(previous) = previous.filter(|p| p.digest == digest) {
        return Ok(Project {
            catalog: previous.catalog.clone(),
            digest,
        });
    }
    // An empty file is far more often one being written (a truncate, then a
    // copy) than a project without images, which is `[]`: keep what was
    // served rather than blank the project.
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "{}: the file is empty (a project without images is `[]`)",
            path.display()
        ));
    }
    // Parsed on every core (the records text is long enough); the text is
    // freed before the catalog is built, so that the two are not held
    // together with the records.
    let records = parse_records_bytes(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    drop(bytes);
    Ok(Project {
        catalog: Arc::new(Catalog::from_records(records)),
        digest,
    })
}

/// Loads every project at start: any bad file is an error (the server does
/// not start on data it cannot serve).
pub fn load_all(dir: &Path) -> Result<Snapshot, String> {
    let mut projects = HashMap::new();
    for file in data_files(dir)? {
        let file = file.map_err(|path| {
            format!(
                "{}: the file name is not a project id (1 to 64 ASCII letters, digits and hyphens)",
                path.display()
            )
        })?;
        projects.insert(file.project, read(&file.path, None)?);
    }
    Ok(Snapshot { projects })
}

/// The next snapshot after `previous`: unchanged files keep their catalogs,
/// changed ones are parsed, a file that fails keeps its previous data.
pub fn reload(dir: &Path, previous: &Snapshot) -> Snapshot {
    let files = match data_files(dir) {
        Ok(files) => files,
        Err(msg) => {
            tracing::error!("reload: {msg}; keeping every project's previous data");
            return Snapshot {
                projects: previous.projects.clone(),
            };
        }
    };
    let mut projects = HashMap::new();
    let (mut changed, mut failed) = (0, 0);
    for file in files {
        let file = match file {
            Ok(file) => file,
            Err(path) => {
                tracing::warn!(
                    file = %path.display(),
                    "reload: skipped, the file name is not a project id"
                );
                continue;
            }
        };
        let before = previous.projects.get(&file.project);
        match read(&file.path, before) {
            Ok(project) => {
                if before.is_none_or(|b| b.digest != project.digest) {
                    changed += 1;
                }
                projects.insert(file.project, project);
            }
            Err(msg) => {
                failed += 1;
                let kept = before.cloned();
                tracing::error!(
                    project = %file.project,
                    kept_previous_data = kept.is_some(),
                    "reload: {msg}"
                );
                if let Some(kept) = kept {
                    projects.insert(file.project, kept);
                }
            }
        }
    }
    let removed = previous
        .projects
        .keys()
        .filter(|id| !projects.contains_key(*id))
        .count();
    tracing::info!(
        projects = projects.len(),
        changed,
        removed,
        failed,
        "reloaded the data directory"
    );
    Snapshot { projects }
}

/// Keeps the directory watched while it lives.
pub struct Reloader {
    _watcher: Option<notify::RecommendedWatcher>,
}

/// Starts reloading `store` from `dir` on SIGHUP and, with `watch`, on every
/// change event of the directory. A watcher that cannot start (no inotify
/// instances left, say) is logged, and SIGHUP still works.
pub fn start(dir: PathBuf, store: Store, watch: bool) -> Reloader {
    // One pending trigger is enough: a reload reads the whole directory.
    let (tx, rx) = mpsc::channel::<()>(1);
    let watcher = if watch {
        match watch_dir(&dir, tx.clone()) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!(
                    dir = %dir.display(),
                    "cannot watch the data directory ({e}); reloading on SIGHUP only"
                );
                None
            }
        }
    } else {
        None
    };
    on_sighup(tx);
    tokio::spawn(reload_loop(dir, store, rx));
    Reloader { _watcher: watcher }
}

/// Watches `dir` (not its subdirectories: only its own files are data) and
/// sends a trigger on every event but a read.
fn watch_dir(dir: &Path, tx: mpsc::Sender<()>) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{EventKind, RecursiveMode, Watcher};
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let relevant = match &event {
            // Reading a file is an event too (the reload's own reads among
            // them): it changes nothing.
            Ok(event) => !matches!(event.kind, EventKind::Access(_)),
            // A lost event (queue overflow) may have been a change.
            Err(_) => true,
        };
        if relevant {
            // Full means a reload is already pending, which will see this.
            let _ = tx.try_send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

/// Installs the SIGHUP handler now (SIGHUP's default action ends the
/// process) and spawns what turns each SIGHUP into a reload.
#[cfg(unix)]
fn on_sighup(tx: mpsc::Sender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(e) => {
            tracing::warn!("cannot listen for SIGHUP ({e}); it will not reload");
            return;
        }
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the data directory");
            let _ = tx.try_send(());
        }
    });
}

#[cfg(not(unix))]
fn on_sighup(_tx: mpsc::Sender<()>) {}

/// One reload at a time, each on a blocking thread, each swapped in whole.
async fn reload_loop(dir: PathBuf, store: Store, mut rx: mpsc::Receiver<()>) {
    while rx.recv().await.is_some() {
        tokio::time::sleep(SETTLE).await;
        // Whatever arrived while settling is read by this reload.
        while rx.try_recv().is_ok() {}
        let previous = store.load_full();
        let dir = dir.clone();
        match tokio::task::spawn_blocking(move || reload(&dir, &previous)).await {
            Ok(next) => store.store(Arc::new(next)),
            Err(e) => tracing::error!("reload failed, keeping the previous data: {e}"),
        }
    }
}
