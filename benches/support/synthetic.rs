//! Deterministic synthetic image-version records for benchmarks and the
//! engine comparison: seeded, so every run and every engine sees the same data.
//!
//! Shape: `groups` repositories (namespace/name), each given one version, then
//! the remaining versions spread over them with a Zipf-like skew (a few
//! repositories hold most versions, most hold one or two). Repositories live
//! in several workspaces (mostly `"0"`), are mostly DEDICATED, and have
//! realistic, partly mixed-case names; records come in shuffled order.

#![allow(dead_code)]

use image_groups::{ImageType, ImageVersion, ServiceType};

/// SplitMix64: tiny, fast and good enough for data generation.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const FRAMEWORKS: &[&str] = &[
    "pytorch",
    "PyTorch",
    "tensorflow",
    "TensorFlow",
    "mindspore",
    "MindSpore",
    "mxnet",
    "paddle",
    "jax",
    "onnx",
    "triton",
    "vllm",
    "llama",
    "bert",
    "resnet",
    "yolo",
    "whisper",
    "stable-diffusion",
    "notebook",
    "jupyter",
    "cuda",
    "cann",
    "ascend",
    "sklearn",
];
const PURPOSES: &[&str] = &[
    "train", "infer", "serving", "dev", "base", "custom", "finetune", "eval", "export", "lab",
];
const ORGS: &[&str] = &[
    "op_svc_modelarts",
    "cnnorth7-infer",
    "mock-service",
    "ai-platform",
    "vision-team",
    "nlp-lab",
    "speech",
    "recsys",
    "data-eng",
    "research",
];

/// The namespace of repository `g`: about one organization per 500 repositories.
pub fn namespace_of(g: usize, groups: usize) -> String {
    let orgs = (groups / 500).clamp(4, 2000);
    let o = (g.wrapping_mul(2_654_435_761)) % orgs;
    format!("{}-{}", ORGS[o % ORGS.len()], o)
}

/// The name of repository `g`, e.g. `PyTorch-finetune_1234`.
pub fn name_of(g: usize) -> String {
    let f = FRAMEWORKS[g % FRAMEWORKS.len()];
    let p = PURPOSES[(g / FRAMEWORKS.len()) % PURPOSES.len()];
    format!("{f}-{p}_{g}")
}

/// `records` versions over `groups` repositories (records >= groups > 0).
pub fn generate(records: usize, groups: usize, seed: u64) -> Vec<ImageVersion> {
    assert!(groups > 0 && records >= groups);
    let mut rng = Rng::new(seed);
    let workspaces = [
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "ws-analytics",
        "ws-prod",
        "ws-lab",
    ];
    let group_ws: Vec<&str> = (0..groups)
        .map(|_| workspaces[rng.below(workspaces.len() as u64) as usize])
        .collect();
    let group_type: Vec<ImageType> = (0..groups)
        .map(|_| {
            if rng.below(5) == 0 {
                ImageType::BuildIn
            } else {
                ImageType::Dedicated
            }
        })
        .collect();
    let names: Vec<String> = (0..groups).map(name_of).collect();
    let namespaces: Vec<String> = (0..groups).map(|g| namespace_of(g, groups)).collect();

    let mut out = Vec::with_capacity(records);
    for i in 0..records {
        // One version per repository first, then a skewed choice: u^3 puts
        // most of the mass on low repository numbers.
        let g = if i < groups {
            i
        } else {
            ((rng.unit().powi(3)) * groups as f64) as usize % groups
        };
        let create_at = 1_600_000_000_000 + rng.below(100_000_000_000) as i64;
        let service_type = ServiceType::ALL[rng.below(ServiceType::ALL.len() as u64) as usize];
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-{:012x}",
            rng.next_u64() as u32,
            i & 0xffff,
            g & 0xfff,
            i
        );
        let update_at = create_at + rng.below(5_000_000_000) as i64;
        let (name, namespace) = (names[g].clone(), namespaces[g].clone());
        out.push(
            ImageVersion::new(id, name, namespace, group_type[g], create_at, update_at)
                .with_tag(format!("v{}", i % 97))
                .with_workspace_id(group_ws[g])
                .with_service_type(service_type),
        );
    }
    // Shuffle (Fisher-Yates): records arrive in no particular order.
    for i in (1..out.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        out.swap(i, j);
    }
    out
}

/// The benchmark's query shapes: (label, query string), for data made by
/// [`generate`] with `groups` repositories.
pub fn query_shapes(groups: usize) -> Vec<(&'static str, String)> {
    let deep = (groups / 2).min(50_000);
    vec![
        ("empty", String::new()),
        ("fuzzy_name_type", "name=torch&type=DEDICATED".to_string()),
        (
            "exact_name",
            format!("name={}&name_fuzzy_match=false", name_of(24)),
        ),
        (
            "namespace",
            format!("namespace={}", namespace_of(3, groups)),
        ),
        ("sort_version_count", "sort_key=version_count".to_string()),
        (
            "sort_name_deep_offset",
            format!("sort_key=name&sort_dir=asc&offset={deep}&limit=50"),
        ),
        ("limit_1", "limit=1".to_string()),
        ("limit_1000", "limit=1000".to_string()),
    ]
}

/// The "floor": what the hardware allows for this input layout. It reads,
/// from every record, the fields a query needs (workspace, type, service
/// type, namespace, name, both times), with no filtering or grouping work.
pub fn floor(records: &[ImageVersion]) -> u64 {
    let mut acc = 0u64;
    for v in records {
        let (ws, name, ns) = (
            v.workspace_id.as_bytes(),
            v.name.as_bytes(),
            v.namespace.as_bytes(),
        );
        acc = acc
            .wrapping_add(u64::from(ws.first().copied().unwrap_or(0)))
            .wrapping_add(u64::from(name.last().copied().unwrap_or(0)))
            .wrapping_add(u64::from(ns.last().copied().unwrap_or(0)))
            .wrapping_add((name.len() + ns.len() + ws.len()) as u64)
            .wrapping_add(v.image_type as u64 + v.service_type as u64)
            .wrapping_add((v.create_at ^ v.update_at) as u64);
    }
    acc
}

/// The "touch floor": a lower bound on any scan of these records. Every
/// query filters by workspace (`0` when it names none), so every scan reads
/// at least each record's `workspace_id` length, which sits in the record
/// itself (a record whose length differs from the query's is rejected
/// without reading the id's bytes); this reads only that, on as many
/// threads as `group_images_parallel` uses, and nothing else. A scan cannot
/// beat it with the records laid out as a `Vec<ImageVersion>`; a columnar
/// engine reads one packed column instead.
pub fn touch_floor(records: &[ImageVersion]) -> u64 {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let piece = records.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(piece)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .fold(0u64, |acc, v| acc.wrapping_add(v.workspace_id.len() as u64))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a touch-floor thread panicked"))
            .fold(0u64, u64::wrapping_add)
    })
}

/// The "filter floor" of a query: a lower bound on any scan of it over these
/// records (1M of them: below that, its two threads' start dominates),
/// tighter than the [`touch_floor`] for a query whose workspace or SWR
/// instance few records are in.
///
/// Why: every query filters by a workspace id (`0` when it names none), and
/// an id's bytes live on the heap, not in the record. A scan can reject a
/// record on what the record itself holds (the id's length, whether it has
/// an SWR instance id and its length, the type and service type), but a
/// record that passes those must have its workspace id's bytes read (and its
/// instance id's, with `swr_instance_id`) before it can be counted or
/// dropped: one cache line elsewhere in memory, apiece. This does exactly
/// that and nothing else (no name, no namespace, no grouping), with the
/// scan's own read-ahead (the record stream 16 records ahead into the outer
/// caches, each candidate's id bytes 8 candidates ahead), on as many threads
/// as `group_images_parallel` uses. It returns how many records pass.
pub fn filter_floor(records: &[ImageVersion], query: &image_groups::GroupQuery) -> u64 {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let piece = records.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = records
            .chunks(piece)
            .map(|part| scope.spawn(move || filter_floor_part(part, query)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a filter-floor thread panicked"))
            .sum()
    })
}

/// [`filter_floor`] over one thread's records.
fn filter_floor_part(part: &[ImageVersion], query: &image_groups::GroupQuery) -> u64 {
    const RECORDS_AHEAD: usize = 16;
    const CANDIDATES_AHEAD: usize = 8;
    // Each record's lines: every 64 bytes, and its last byte's.
    const SIZE: usize = std::mem::size_of::<ImageVersion>();
    const OFFSETS: [usize; SIZE.div_ceil(64) + 1] = {
        let mut offsets = [SIZE - 1; SIZE.div_ceil(64) + 1];
        let mut i = 0;
        while i < SIZE.div_ceil(64) {
            offsets[i] = i * 64;
            i += 1;
        }
        offsets
    };
    let workspace = query.workspace_id().as_bytes();
    let instance = query.swr_instance_id().map(str::as_bytes);
    let (image_type, service_type) = (query.image_type(), query.service_type());
    // What the record itself says: the lengths and the kinds.
    let may_pass = |v: &ImageVersion| {
        v.workspace_id.len() == workspace.len()
            && image_type.is_none_or(|t| v.image_type == t)
            && service_type.is_none_or(|t| v.service_type == t)
            && instance.is_none_or(|id| {
                v.swr_instance_id
                    .as_ref()
                    .is_some_and(|own| own.len() == id.len())
            })
    };
    let passes = |v: &ImageVersion| {
        v.workspace_id.as_bytes() == workspace
            && instance.is_none_or(|id| v.swr_instance_id.as_deref().map(str::as_bytes) == Some(id))
    };
    // The candidates whose id bytes were asked for, the oldest at `at`.
    let mut ring: [Option<&ImageVersion>; CANDIDATES_AHEAD] = [None; CANDIDATES_AHEAD];
    let mut at = 0;
    let mut passed = 0u64;
    for (i, v) in part.iter().enumerate() {
        if let Some(ahead) = part.get(i + RECORDS_AHEAD) {
            let start = std::ptr::from_ref(ahead).cast::<u8>();
            for offset in OFFSETS {
                prefetch::<true>(start.wrapping_add(offset));
            }
        }
        if !may_pass(v) {
            continue;
        }
        prefetch::<false>(v.workspace_id.as_ptr());
        if let Some(id) = &v.swr_instance_id {
            prefetch::<false>(id.as_ptr());
        }
        if let Some(due) = ring[at].replace(v) {
            passed += u64::from(passes(due));
        }
        at = (at + 1) % CANDIDATES_AHEAD;
    }
    passed
        + ring
            .into_iter()
            .flatten()
            .map(|v| u64::from(passes(v)))
            .sum::<u64>()
}

/// A prefetch of the line at `address`: into the outer caches if `OUTER`
/// (x86's T1 hint), else into every level (T0), as the scan asks.
#[inline(always)]
fn prefetch<const OUTER: bool>(address: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache; it reads nothing the
    // program observes and never faults, whatever the address. It is
    // `unsafe` only for its `sse` target feature, part of the x86_64
    // baseline. (The floor must read ahead as the scan does to be a lower
    // bound: without it, it took longer than the scan itself.)
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        if OUTER {
            _mm_prefetch::<_MM_HINT_T1>(address.cast::<i8>());
        } else {
            _mm_prefetch::<_MM_HINT_T0>(address.cast::<i8>());
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = address;
}

// ---------------------------------------------------------------------------
// Shapes: named presets of the data's layout.
// ---------------------------------------------------------------------------

/// How a shape's repositories are named.
#[derive(Clone, Copy, Debug)]
pub enum NameStyle {
    /// `framework-purpose_G`, 10 to 25 bytes (as the original generator).
    Short,
    /// Path-like, `team/domain/task/framework-purpose-dataset-..._G`, of
    /// `min..=max` bytes (before non-ASCII decoration); one repository in
    /// four uses `.` instead of `/` between the segments.
    Path { min: usize, max: usize },
}

/// How the versions beyond each repository's first one are spread.
#[derive(Clone, Copy, Debug)]
pub enum Skew {
    /// Repository `floor(u^power * groups)` for a uniform `u`: most of the
    /// mass on the low repository numbers (the original generator: 3.0).
    Power(f64),
    /// Repositories `0..huge` together hold `share` of *all* versions (split
    /// evenly among them); the rest follow `Power(power)`.
    Huge { huge: usize, share: f64, power: f64 },
    /// Every repository equally likely: with few extra versions, nearly all
    /// repositories hold one version.
    Uniform,
}

/// A named preset of the generator: every parameter of the data's layout.
///
/// Group-level attributes (name, namespace, home workspace, type, SWR
/// instance) are pure functions of the repository number and the seed, so
/// [`Shape::queries`] can name targets that exist without reading the data.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// The preset's name (`--shape NAME`).
    pub name: &'static str,
    /// One line on what it stands for.
    pub about: &'static str,
    /// Repositories (groups) per million records; scaled to the record
    /// count unless `--groups` is given (at least 1, at most the records).
    pub groups_per_million: usize,
    /// Workspaces besides the default `"0"`.
    pub workspaces: usize,
    /// Workspace ids: 32 characters of `0-9a-f` (the SDK's form) rather
    /// than `ws-N`.
    pub uuid_workspaces: bool,
    /// Share of repositories whose versions live in workspace `"0"`; the
    /// rest live in one other workspace each, chosen uniformly.
    pub default_workspace_share: f64,
    /// Share of versions placed in a workspace other than their
    /// repository's (uniformly among the others).
    pub stray_share: f64,
    /// Name lengths and layout.
    pub names: NameStyle,
    /// Share of repositories whose name (and of organizations whose
    /// namespace) has upper-case letters.
    pub mixed_case_share: f64,
    /// Share of repositories whose name carries a non-ASCII word.
    pub non_ascii_share: f64,
    /// How versions spread over repositories.
    pub skew: Skew,
    /// SWR enterprise instances (ids of 32 `0-9a-f`).
    pub swr_instances: usize,
    /// Share of repositories held in an SWR enterprise instance; an odd
    /// repository in an instance takes the namespace and name of the one
    /// before it, so the same repository exists in the shared SWR and in an
    /// instance (two groups).
    pub swr_share: f64,
    /// Share of repositories that are `BUILD_IN` (the rest `DEDICATED`).
    pub build_in_share: f64,
    /// Write every `ImageResponse` field (`arch`, `description`,
    /// `dev_services`, `origin`, `resource_categories`, `size`, `status`,
    /// `status_message`, `swr_path`, `visibility`), not only the ones the
    /// query reads.
    pub full_records: bool,
    /// The original generator ([`generate`]), kept verbatim so the default
    /// data set stays byte-identical to earlier runs; the fields above then
    /// only describe it.
    pub original: bool,
}

/// The presets, default first.
pub const SHAPES: &[Shape] = &[
    Shape {
        name: "default",
        about: "the original data set: 100k groups per 1M, u^3 skew, 70% in workspace 0 and three \
                short-named workspaces, short partly mixed-case names, the query's fields only",
        groups_per_million: 100_000,
        workspaces: 3,
        uuid_workspaces: false,
        default_workspace_share: 0.7,
        stray_share: 0.0,
        names: NameStyle::Short,
        mixed_case_share: 0.125,
        non_ascii_share: 0.0,
        skew: Skew::Power(3.0),
        swr_instances: 0,
        swr_share: 0.0,
        build_in_share: 0.2,
        full_records: false,
        original: true,
    },
    Shape {
        name: "workspaces",
        about: "69% of groups in workspace 0, the rest over 20 UUID workspaces; 5% of versions \
                outside their group's workspace; 2% of groups in 3 SWR instances; full records",
        groups_per_million: 100_000,
        workspaces: 20,
        uuid_workspaces: true,
        default_workspace_share: 0.69,
        stray_share: 0.05,
        names: NameStyle::Short,
        mixed_case_share: 0.1,
        non_ascii_share: 0.0,
        skew: Skew::Power(3.0),
        swr_instances: 3,
        swr_share: 0.02,
        build_in_share: 0.2,
        full_records: true,
        original: false,
    },
    Shape {
        name: "long-names",
        about: "300k groups per 1M in workspace 0 only; path-like names of 40-90 bytes; \
                u^2 skew; full records",
        groups_per_million: 300_000,
        workspaces: 0,
        uuid_workspaces: false,
        default_workspace_share: 1.0,
        stray_share: 0.0,
        names: NameStyle::Path { min: 40, max: 90 },
        mixed_case_share: 0.0,
        non_ascii_share: 0.0,
        skew: Skew::Power(2.0),
        swr_instances: 0,
        swr_share: 0.0,
        build_in_share: 0.1,
        full_records: true,
        original: false,
    },
    Shape {
        name: "mixed",
        about: "300 workspaces (25% of groups in 0); half the names mixed-case, 20% non-ASCII; \
                5 huge groups hold 30% of versions; 10% of groups in 8 SWR instances; full records",
        groups_per_million: 150_000,
        workspaces: 300,
        uuid_workspaces: true,
        default_workspace_share: 0.25,
        stray_share: 0.02,
        names: NameStyle::Short,
        mixed_case_share: 0.5,
        non_ascii_share: 0.2,
        skew: Skew::Huge {
            huge: 5,
            share: 0.3,
            power: 3.0,
        },
        swr_instances: 8,
        swr_share: 0.1,
        build_in_share: 0.2,
        full_records: true,
        original: false,
    },
    Shape {
        name: "skewed",
        about: "one group holds a third of all versions, the rest u^4 over 200k groups per 1M; \
                workspace 0 only; full records",
        groups_per_million: 200_000,
        workspaces: 0,
        uuid_workspaces: false,
        default_workspace_share: 1.0,
        stray_share: 0.0,
        names: NameStyle::Short,
        mixed_case_share: 0.1,
        non_ascii_share: 0.0,
        skew: Skew::Huge {
            huge: 1,
            share: 1.0 / 3.0,
            power: 4.0,
        },
        swr_instances: 0,
        swr_share: 0.0,
        build_in_share: 0.2,
        full_records: true,
        original: false,
    },
    Shape {
        name: "singletons",
        about: "950k groups per 1M spread uniformly: about 95% of groups hold one version; \
                workspace 0 only; full records",
        groups_per_million: 950_000,
        workspaces: 0,
        uuid_workspaces: false,
        default_workspace_share: 1.0,
        stray_share: 0.0,
        names: NameStyle::Short,
        mixed_case_share: 0.1,
        non_ascii_share: 0.0,
        skew: Skew::Uniform,
        swr_instances: 0,
        swr_share: 0.0,
        build_in_share: 0.2,
        full_records: true,
        original: false,
    },
    Shape {
        name: "few-groups",
        about:
            "1k groups per 1M (about 1,000 versions each, u^2 skew) in workspace 0 and 4 others; \
                full records",
        groups_per_million: 1_000,
        workspaces: 4,
        uuid_workspaces: true,
        default_workspace_share: 0.8,
        stray_share: 0.0,
        names: NameStyle::Short,
        mixed_case_share: 0.1,
        non_ascii_share: 0.0,
        skew: Skew::Power(2.0),
        swr_instances: 0,
        swr_share: 0.0,
        build_in_share: 0.2,
        full_records: true,
        original: false,
    },
];

/// The preset called `name`.
pub fn shape(name: &str) -> Option<&'static Shape> {
    SHAPES.iter().find(|s| s.name == name)
}

const DOMAINS: &[&str] = &[
    "vision",
    "nlp",
    "speech",
    "recsys",
    "multimodal",
    "llm",
    "ocr",
    "video",
];
const TASKS: &[&str] = &[
    "detection",
    "segmentation",
    "classification",
    "pretrain",
    "finetune",
    "distill",
    "quantize",
    "retrieval",
];
const DATASETS: &[&str] = &[
    "coco",
    "imagenet",
    "wikitext",
    "librispeech",
    "laion",
    "c4",
    "openimages",
    "squad",
];
const RELEASES: &[&str] = &["v1", "v2", "2024q3", "2025-01", "release", "nightly", "rc1"];
/// Non-ASCII words; none lower-cases to ASCII (no Kelvin sign, no dotted
/// capital I), so every engine's fuzzy match agrees with the crate's.
const NON_ASCII: &[&str] = &[
    "模型",
    "训练",
    "推理",
    "Äpfel",
    "über",
    "café",
    "niño",
    "Øst",
    "straße",
    "日本語",
    "Ωmega",
    "ёлка",
    "データ",
    "Ünïcode",
];

/// A hash of (seed, repository or organization number, salt).
fn mix(seed: u64, n: usize, salt: u64) -> u64 {
    Rng::new(
        seed ^ (n as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
            ^ salt.wrapping_mul(0xA076_1D64_78BD_642F),
    )
    .next_u64()
}

/// `mix` as a uniform number in `[0, 1)`.
fn mix_unit(seed: u64, n: usize, salt: u64) -> f64 {
    (mix(seed, n, salt) >> 11) as f64 / (1u64 << 53) as f64
}

/// An id of 32 characters of `0-9a-f`, as the SDK describes workspace ids.
fn hex_id(seed: u64, n: usize, salt: u64) -> String {
    format!("{:016x}{:016x}", mix(seed, n, salt), mix(seed, n, salt + 1))
}

/// Upper-cases the first letter of every segment (`style` even) or the
/// whole name (`style` odd), leaving non-ASCII letters alone.
fn mixed_case(name: &str, style: u64) -> String {
    if style % 2 == 1 {
        return name.to_ascii_uppercase();
    }
    let mut out = String::with_capacity(name.len());
    let mut start = true;
    for c in name.chars() {
        out.push(if start { c.to_ascii_uppercase() } else { c });
        start = matches!(c, '/' | '.' | '-' | '_');
    }
    out
}

/// The attributes of one repository (group) of a shape.
#[derive(Clone, Debug)]
pub struct Repo {
    pub name: String,
    pub namespace: String,
    /// Index of its workspace: 0 is `"0"`, `k` is [`Shape::workspace_id`]`(k)`.
    pub workspace: usize,
    pub image_type: ImageType,
    /// Index into [`Shape::swr_instance_id`], or none for the shared SWR.
    pub swr: Option<usize>,
}

impl Shape {
    /// The number of repositories for `records` records.
    pub fn groups_for(&self, records: usize) -> usize {
        let scaled = (self.groups_per_million as u128 * records as u128 / 1_000_000) as usize;
        scaled.clamp(1, records.max(1))
    }

    /// Workspace `k`'s id (`k` = 0 is `"0"`).
    pub fn workspace_id(&self, k: usize, seed: u64) -> String {
        match (k, self.uuid_workspaces) {
            (0, _) => "0".to_string(),
            (k, true) => hex_id(seed, k, 11),
            (k, false) => format!("ws-{k}"),
        }
    }

    /// SWR instance `k`'s id.
    pub fn swr_instance_id(&self, k: usize, seed: u64) -> String {
        hex_id(seed, k, 21)
    }

    /// Organization `o`'s namespace.
    fn namespace(&self, o: usize, seed: u64) -> String {
        let ns = format!("{}-{}", ORGS[o % ORGS.len()], o);
        if mix_unit(seed, o, 31) < self.mixed_case_share {
            mixed_case(&ns, 0)
        } else {
            ns
        }
    }

    /// Repository `g`'s name, before the SWR pairing.
    fn base_name(&self, g: usize, seed: u64) -> String {
        let h = mix(seed, g, 41);
        let pick = |list: &[&'static str], salt: u64| {
            list[(mix(seed, g, salt) % list.len() as u64) as usize]
        };
        let framework = FRAMEWORKS[g % FRAMEWORKS.len()].to_ascii_lowercase();
        let purpose = PURPOSES[(g / FRAMEWORKS.len()) % PURPOSES.len()];
        let mut name = match self.names {
            NameStyle::Short => format!("{framework}-{purpose}"),
            NameStyle::Path { min, max } => {
                let sep = if g % 4 == 0 { '.' } else { '/' };
                let suffix = format!("_{g}").len();
                let target = min + (h % (max - min + 1) as u64) as usize - suffix.min(min);
                let words = [
                    pick(ORGS, 42),
                    pick(DOMAINS, 43),
                    pick(TASKS, 44),
                    framework.as_str(),
                    purpose,
                    pick(DATASETS, 45),
                    pick(RELEASES, 46),
                    pick(TASKS, 47),
                    pick(DATASETS, 48),
                    pick(DOMAINS, 49),
                    pick(RELEASES, 50),
                ];
                let mut s = String::new();
                for (i, w) in words.iter().enumerate() {
                    if s.len() >= target {
                        break;
                    }
                    if i > 0 {
                        s.push(if i < 3 { sep } else { '-' });
                    }
                    s.push_str(w);
                }
                while s.len() < target {
                    s.push('x');
                }
                s.truncate(target);
                if s.ends_with(['/', '.', '-']) {
                    s.pop();
                    s.push('x');
                }
                s
            }
        };
        if mix_unit(seed, g, 51) < self.non_ascii_share {
            name = format!("{}-{name}", pick(NON_ASCII, 52));
        }
        if mix_unit(seed, g, 53) < self.mixed_case_share {
            name = mixed_case(&name, mix(seed, g, 54));
        }
        name.push_str(&format!("_{g}"));
        name
    }

    /// Repository `g` of `groups`.
    pub fn repo(&self, g: usize, groups: usize, seed: u64) -> Repo {
        let orgs = (groups / 500).clamp(4, 2000);
        let workspace =
            if self.workspaces == 0 || mix_unit(seed, g, 61) < self.default_workspace_share {
                0
            } else {
                1 + (mix(seed, g, 62) % self.workspaces as u64) as usize
            };
        let swr = (self.swr_instances > 0 && mix_unit(seed, g, 63) < self.swr_share)
            .then(|| (mix(seed, g, 64) % self.swr_instances as u64) as usize);
        // An odd repository in an instance is the one before it, copied there.
        let same_as = if swr.is_some() && g % 2 == 1 {
            g - 1
        } else {
            g
        };
        let image_type = if mix_unit(seed, g, 65) < self.build_in_share {
            ImageType::BuildIn
        } else {
            ImageType::Dedicated
        };
        Repo {
            name: self.base_name(same_as, seed),
            namespace: self.namespace(same_as.wrapping_mul(2_654_435_761) % orgs, seed),
            workspace,
            image_type,
            swr,
        }
    }

    /// `records` versions over `groups` repositories (records >= groups > 0),
    /// seeded; records come in shuffled order.
    pub fn generate(&self, records: usize, groups: usize, seed: u64) -> Vec<ImageVersion> {
        if self.original {
            return generate(records, groups, seed);
        }
        assert!(groups > 0 && records >= groups);
        let mut rng = Rng::new(seed ^ 0x5EED_5A9E);
        let repos: Vec<Repo> = (0..groups).map(|g| self.repo(g, groups, seed)).collect();
        let workspaces: Vec<String> = (0..=self.workspaces)
            .map(|k| self.workspace_id(k, seed))
            .collect();
        let instances: Vec<String> = (0..self.swr_instances)
            .map(|k| self.swr_instance_id(k, seed))
            .collect();
        let extra = (records - groups).max(1) as f64;
        let mut out = Vec::with_capacity(records);
        for i in 0..records {
            let g = if i < groups {
                i
            } else {
                match self.skew {
                    Skew::Power(p) => (rng.unit().powf(p) * groups as f64) as usize % groups,
                    Skew::Huge { huge, share, power } => {
                        // `share` of all records, taken from the extra ones.
                        let p_huge = (share * records as f64 / extra).min(1.0);
                        if rng.unit() < p_huge {
                            rng.below(huge.min(groups) as u64) as usize
                        } else {
                            (rng.unit().powf(power) * groups as f64) as usize % groups
                        }
                    }
                    Skew::Uniform => rng.below(groups as u64) as usize,
                }
            };
            let repo = &repos[g];
            let workspace = if self.workspaces > 0 && rng.unit() < self.stray_share {
                // Uniformly among the workspaces other than the repository's.
                let k = rng.below(self.workspaces as u64) as usize;
                if k >= repo.workspace {
                    k + 1
                } else {
                    k
                }
            } else {
                repo.workspace
            };
            let create_at = 1_600_000_000_000 + rng.below(100_000_000_000) as i64;
            let service_type = ServiceType::ALL[rng.below(ServiceType::ALL.len() as u64) as usize];
            let id = format!(
                "{:08x}-{:04x}-4{:03x}-{:012x}",
                rng.next_u64() as u32,
                i & 0xffff,
                g & 0xfff,
                i
            );
            let update_at = create_at + rng.below(5_000_000_000) as i64;
            let mut v = ImageVersion::new(
                id,
                repo.name.clone(),
                repo.namespace.clone(),
                repo.image_type,
                create_at,
                update_at,
            )
            .with_tag(format!("v{}", i % 97))
            .with_workspace_id(workspaces[workspace].clone())
            .with_service_type(service_type);
            if let Some(k) = repo.swr {
                v = v.with_swr_instance_id(instances[k].clone());
            }
            out.push(v);
        }
        for i in (1..out.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            out.swap(i, j);
        }
        out
    }

    /// The benchmark's queries for this shape's data with `groups`
    /// repositories: (label, query string). The default shape's are
    /// [`query_shapes`]'s; the others have the same labels (targets that
    /// exist in their data) and some of their own.
    pub fn queries(&self, groups: usize, seed: u64) -> Vec<(&'static str, String)> {
        if self.original {
            return query_shapes(groups);
        }
        let valid_name = |s: &str| {
            s.bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-'))
        };
        // An exact name and a namespace that the query rules allow and that
        // live in workspace "0" of the shared SWR.
        let target = (24..groups)
            .chain(0..24.min(groups))
            .map(|g| self.repo(g, groups, seed))
            .find(|r| r.workspace == 0 && r.swr.is_none() && valid_name(&r.name));
        let namespace = (3..groups).map(|g| self.repo(g, groups, seed)).find(|r| {
            r.workspace == 0 && r.namespace.starts_with(|c: char| c.is_ascii_lowercase())
        });
        let deep = (groups / 2).min(50_000);
        let mut q = vec![
            ("empty", String::new()),
            ("fuzzy_name_type", "name=torch&type=DEDICATED".to_string()),
        ];
        if let Some(r) = target {
            q.push((
                "exact_name",
                format!("name={}&name_fuzzy_match=false", r.name),
            ));
        }
        if let Some(r) = namespace {
            q.push(("namespace", format!("namespace={}", r.namespace)));
        }
        q.extend([
            ("sort_version_count", "sort_key=version_count".to_string()),
            (
                "sort_name_deep_offset",
                format!("sort_key=name&sort_dir=asc&offset={deep}&limit=50"),
            ),
            ("limit_1", "limit=1".to_string()),
            ("limit_1000", "limit=1000".to_string()),
        ]);
        if self.workspaces > 0 {
            q.push((
                "other_workspace",
                format!("workspace_id={}", self.workspace_id(1, seed)),
            ));
        }
        if self.swr_instances > 0 {
            q.push((
                "swr_instance",
                format!("swr_instance_id={}", self.swr_instance_id(0, seed)),
            ));
        }
        if let NameStyle::Path { .. } = self.names {
            q.push(("fuzzy_long", "name=segmentation".to_string()));
            q.push((
                "fuzzy_long_rare_limit_10",
                "name=_1234&limit=10".to_string(),
            ));
        }
        if let Skew::Huge { .. } = self.skew {
            let huge = self.repo(0, groups, seed);
            if huge.workspace == 0 && huge.swr.is_none() && valid_name(&huge.name) {
                q.push((
                    "exact_name_huge",
                    format!("name={}&name_fuzzy_match=false", huge.name),
                ));
            }
        }
        q
    }
}

/// Whether the query labelled `label` is an aggregate query (issue 14's
/// scan target applies): every query but an exact name or a namespace.
pub fn is_aggregate(label: &str) -> bool {
    !(label.starts_with("exact_name") || label == "namespace")
}

/// One record as a `GET /v1/{project_id}/images` page gives it: the
/// version's fields and, with `full`, every other `ImageResponse` field,
/// derived from the version so that the output is deterministic. Without
/// `full`, exactly `serde_json::to_writer(v)` (the original format).
pub fn write_record(
    w: &mut impl std::io::Write,
    v: &ImageVersion,
    full: bool,
) -> std::io::Result<()> {
    if !full {
        serde_json::to_writer(&mut *w, v)?;
        return w.write_all(b"\n");
    }
    #[derive(serde::Serialize)]
    struct Full<'a> {
        arch: &'a str,
        create_at: i64,
        description: String,
        dev_services: &'a [&'a str],
        id: &'a str,
        name: &'a str,
        namespace: &'a str,
        origin: &'a str,
        resource_categories: &'a [&'a str],
        service_type: &'a str,
        size: u64,
        status: &'a str,
        status_message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        swr_instance_id: Option<&'a str>,
        swr_path: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<&'a str>,
        #[serde(rename = "type")]
        image_type: &'a str,
        update_at: i64,
        visibility: &'a str,
        workspace_id: &'a str,
    }
    let h = {
        let mut r = Rng::new(
            v.id.bytes()
                .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b))),
        );
        r.next_u64()
    };
    let registry = match &v.swr_instance_id {
        Some(k) => format!("{}.swr.cn-north-4.myhuaweicloud.com", &k[..8.min(k.len())]),
        None => "swr.cn-north-4.myhuaweicloud.com".to_string(),
    };
    let record = Full {
        arch: if h % 4 == 0 { "AARCH64" } else { "X86_64" },
        create_at: v.create_at,
        description: if h % 3 == 0 {
            String::new()
        } else {
            format!(
                "{} image for {} ({})",
                v.service_type.as_str().to_ascii_lowercase(),
                v.name,
                v.namespace
            )
        },
        dev_services: if h % 5 == 0 {
            &["NOTEBOOK"]
        } else {
            &["NOTEBOOK", "SSH"]
        },
        id: &v.id,
        name: &v.name,
        namespace: &v.namespace,
        origin: if h % 7 == 0 {
            "IMAGE_SAVE"
        } else {
            "CUSTOMIZE"
        },
        resource_categories: match h % 3 {
            0 => &["CPU"],
            1 => &["CPU", "GPU"],
            _ => &["ASCEND"],
        },
        service_type: v.service_type.as_str(),
        size: 500_000_000 + (h >> 8) % 15_000_000_000,
        status: if h % 50 == 0 { "FAILED" } else { "ACTIVE" },
        status_message: if h % 50 == 0 {
            "image build failed"
        } else {
            ""
        },
        swr_instance_id: v.swr_instance_id.as_deref(),
        swr_path: format!(
            "{registry}/{}/{}:{}",
            v.namespace,
            v.name,
            v.tag.as_deref().unwrap_or("latest")
        ),
        tag: v.tag.as_deref(),
        image_type: v.image_type.as_str(),
        update_at: v.update_at,
        visibility: if h % 10 == 0 { "PUBLIC" } else { "PRIVATE" },
        workspace_id: &v.workspace_id,
    };
    serde_json::to_writer(&mut *w, &record)?;
    w.write_all(b"\n")
}
