//! Helpers shared by the integration tests.
#![allow(dead_code)]

use image_groups::{ImageType, ImageVersion, ServiceType};

/// A DEDICATED, UNKNOWN-service version in workspace "0".
pub fn version(name: &str, namespace: &str, create_at: i64, update_at: i64) -> ImageVersion {
    ImageVersion {
        id: format!("{namespace}/{name}@{create_at}"),
        name: name.to_string(),
        namespace: namespace.to_string(),
        tag: None,
        image_type: ImageType::Dedicated,
        workspace_id: "0".to_string(),
        service_type: ServiceType::Unknown,
        create_at,
        update_at,
    }
}

/// The `(name, namespace)` of each group on a page, in order.
pub fn keys(page: &image_groups::ImageGroupPage) -> Vec<(String, String)> {
    page.data
        .iter()
        .map(|g| (g.name.clone(), g.namespace.clone()))
        .collect()
}
