//! The response: one page of image groups (crate docs, "Response").

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
#[non_exhaustive]
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
#[non_exhaustive]
pub struct ImageGroup {
    /// The smallest `create_at` of the group's matching versions (UTC ms).
    pub create_at: i64,
    /// The image name.
    pub name: String,
    /// The SWR organization.
    pub namespace: String,
    /// The SWR enterprise instance holding the repository; absent (`None`)
    /// for the shared SWR, so such a group serializes exactly as the API
    /// page shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swr_instance_id: Option<String>,
    /// The largest `update_at` of the group's matching versions (UTC ms).
    pub update_at: i64,
    /// The number of matching versions.
    pub version_count: u64,
}

/// With the `chrono` feature: the times as `chrono` date-times.
#[cfg(feature = "chrono")]
impl ImageGroup {
    /// `create_at` as a date and time, or `None` where the milliseconds lie
    /// outside the range chrono can represent (about ±262,000 years).
    ///
    /// ```
    /// # use image_groups::ImageGroup;
    /// let group: ImageGroup = serde_json::from_str(r#"{"create_at": 1652878011643,
    ///     "name": "123", "namespace": "ns", "update_at": 9223372036854775807,
    ///     "version_count": 1}"#).unwrap();
    /// assert_eq!(group.create_time().unwrap().to_rfc3339(), "2022-05-18T12:46:51.643+00:00");
    /// assert_eq!(group.update_time(), None);
    /// ```
    pub fn create_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp_millis(self.create_at)
    }

    /// `update_at` as a date and time, or `None` where it is out of chrono's
    /// range (see [`create_time`](Self::create_time)).
    pub fn update_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp_millis(self.update_at)
    }
}
