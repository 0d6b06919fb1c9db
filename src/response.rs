//! The response: one page of image groups (SPEC 6).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One page of image groups, serialized as the API answers:
/// `current, data, pages, size, total`.
///
/// ```
/// use image_groups::{group_images, GroupQuery, ImageVersion};
///
/// let records: Vec<ImageVersion> = Vec::new();
/// let page = group_images(&records, &GroupQuery::default());
/// assert_eq!(
///     serde_json::to_string(&page).unwrap(),
///     r#"{"current":1,"data":[],"pages":0,"size":0,"total":0}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageGroupPage {
    /// The page number: `offset / limit + 1` (integer division).
    pub current: u64,
    /// The groups of this page, in order; empty past the last page.
    pub data: Vec<ImageGroup>,
    /// The number of pages: `ceil(total / limit)`, 0 when there are no groups.
    pub pages: u64,
    /// The number of groups in `data`.
    pub size: u64,
    /// The number of groups over all pages.
    pub total: u64,
}

/// One image group: the matching versions of one SWR repository
/// (`namespace`/`name`), serialized as the API answers:
/// `create_at, name, namespace, update_at, version_count`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageGroup {
    /// The smallest `create_at` of the group's matching versions (UTC ms).
    pub create_at: i64,
    /// The image name.
    pub name: String,
    /// The SWR organization.
    pub namespace: String,
    /// The largest `update_at` of the group's matching versions (UTC ms).
    pub update_at: i64,
    /// The number of matching versions.
    pub version_count: u64,
}

impl ImageGroup {
    /// `create_at` as a date and time, or `None` where the milliseconds lie
    /// outside the range chrono can represent (about ±262,000 years).
    ///
    /// ```
    /// # use image_groups::ImageGroup;
    /// let group = ImageGroup {
    ///     create_at: 1652878011643, name: "123".into(), namespace: "ns".into(),
    ///     update_at: i64::MAX, version_count: 1,
    /// };
    /// assert_eq!(group.create_time().unwrap().to_rfc3339(), "2022-05-18T12:46:51.643+00:00");
    /// assert_eq!(group.update_time(), None);
    /// ```
    pub fn create_time(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.create_at)
    }

    /// `update_at` as a date and time, or `None` where it is out of chrono's
    /// range (see [`create_time`](Self::create_time)).
    pub fn update_time(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.update_at)
    }
}
