//! Helpers shared by the integration tests.
#![allow(dead_code)]

use image_groups::{ImageType, ImageVersion};

/// A DEDICATED, UNKNOWN-service version in workspace "0".
pub fn version(name: &str, namespace: &str, create_at: i64, update_at: i64) -> ImageVersion {
    let id = format!("{namespace}/{name}@{create_at}");
    ImageVersion::new(
        id,
        name,
        namespace,
        ImageType::Dedicated,
        create_at,
        update_at,
    )
}

/// The `(name, namespace)` of each group on a page, in order.
pub fn keys(page: &image_groups::ImageGroupPage) -> Vec<(String, String)> {
    page.data
        .iter()
        .map(|g| (g.name.clone(), g.namespace.clone()))
        .collect()
}
