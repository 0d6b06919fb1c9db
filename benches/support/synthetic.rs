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
