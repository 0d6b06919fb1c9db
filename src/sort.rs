//! The order a query asks for: [`SortField`] and [`SortDir`].

use std::fmt;
use std::str::FromStr;

use crate::params::Param;
use crate::query_error::QueryError;

/// A group field that `sort_key` can name.
///
/// `FromStr` accepts the canonical names and the API's aliases
/// (`createTime`, `create_time`, `updateTime`, `update_time`, `versionCount`);
/// `Display` and serde write the canonical name (serde reads what `FromStr`
/// reads).
///
/// ```
/// use image_groups::SortField;
///
/// assert_eq!("createTime".parse::<SortField>().unwrap(), SortField::CreateAt);
/// assert_eq!(SortField::CreateAt.to_string(), "create_at");
/// assert_eq!(SortField::default(), SortField::UpdateAt);
/// assert_eq!("size".parse::<SortField>().unwrap_err().error_code(), "ModelArts.6303");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SortField {
    /// `name`.
    Name,
    /// `namespace`.
    Namespace,
    /// `version_count`.
    VersionCount,
    /// `create_at`: the group's earliest creation time.
    CreateAt,
    /// `update_at`: the group's latest update time; the API's default.
    #[default]
    UpdateAt,
}

impl SortField {
    /// Every sortable field.
    pub const ALL: &'static [SortField] = &[
        SortField::Name,
        SortField::Namespace,
        SortField::VersionCount,
        SortField::CreateAt,
        SortField::UpdateAt,
    ];

    /// The canonical name, as in the response's JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Name => "name",
            SortField::Namespace => "namespace",
            SortField::VersionCount => "version_count",
            SortField::CreateAt => "create_at",
            SortField::UpdateAt => "update_at",
        }
    }
}

impl fmt::Display for SortField {
    /// Writes the canonical name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SortField {
    type Err = QueryError;

    /// Parses a canonical name or an alias, exactly (case matters).
    ///
    /// # Errors
    /// `ModelArts.6303` ("The field does not support sorting") for any other
    /// string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "name" => SortField::Name,
            "namespace" => SortField::Namespace,
            "version_count" | "versionCount" => SortField::VersionCount,
            "create_at" | "createTime" | "create_time" => SortField::CreateAt,
            "update_at" | "updateTime" | "update_time" => SortField::UpdateAt,
            _ => return Err(QueryError::unsortable_field(s)),
        })
    }
}

/// The direction of the sort fields.
///
/// `FromStr` (and serde) read `ASC` or `DESC` in any case; `Display` and
/// serde write upper case.
///
/// ```
/// use image_groups::SortDir;
///
/// assert_eq!("asc".parse::<SortDir>().unwrap(), SortDir::Asc);
/// assert_eq!(SortDir::Desc.to_string(), "DESC");
/// assert_eq!(SortDir::default(), SortDir::Desc);
/// assert_eq!("up".parse::<SortDir>().unwrap_err().parameter(), Some("sort_dir"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SortDir {
    /// Smallest first.
    Asc,
    /// Largest first; the API's default.
    #[default]
    Desc,
}

impl SortDir {
    /// Both directions.
    pub const ALL: &'static [SortDir] = &[SortDir::Asc, SortDir::Desc];

    /// The API spelling: `ASC` or `DESC`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortDir::Asc => "ASC",
            SortDir::Desc => "DESC",
        }
    }
}

impl fmt::Display for SortDir {
    /// Writes `ASC` or `DESC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SortDir {
    type Err = QueryError;

    /// Parses `ASC` or `DESC`, ASCII case-insensitively.
    ///
    /// # Errors
    /// `ModelArts.0104` for any other string.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SortDir::ALL
            .iter()
            .copied()
            .find(|dir| s.eq_ignore_ascii_case(dir.as_str()))
            .ok_or_else(|| QueryError::invalid_value(Param::SortDir, s))
    }
}

/// Serde through `Display` and `FromStr`, so that a deserialized value is
/// validated exactly like a parsed one.
macro_rules! serde_via_str {
    ($($ty:ty),+) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )+};
}
pub(crate) use serde_via_str;

serde_via_str!(SortField, SortDir);
