//! The input: one image version ([`ImageVersion`]) and its two enums.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

/// One image version: one tag of one image, as the ModelArts `ImageResponse`
/// object describes it.
///
/// Only the fields the query needs are kept; every other `ImageResponse` field
/// (`arch`, `description`, `swr_path`, ...) is accepted and ignored when
/// deserializing. Field names in JSON are the API's (`type`, `workspace_id`, ...).
///
/// Strings are stored as given: they are not checked against the query rules,
/// since stored data may be messy (upper case, non-ASCII, empty).
///
/// ```
/// use image_groups::{ImageType, ImageVersion, ServiceType};
///
/// let v: ImageVersion = serde_json::from_str(r#"{
///     "id": "e2f0c1d6", "name": "pytorch_1_8", "namespace": "op_svc",
///     "type": "BUILD_IN", "create_at": 1671708630448, "update_at": 1671708630448,
///     "arch": "x86_64"
/// }"#).unwrap();
/// assert_eq!(v.image_type, ImageType::BuildIn);
/// assert_eq!(v.workspace_id, "0"); // absent: the default workspace
/// assert_eq!(v.service_type, ServiceType::Unknown); // absent: UNKNOWN
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageVersion {
    /// Identity of the version (a UUID in practice).
    pub id: String,
    /// Image name; with `namespace`, the group key.
    pub name: String,
    /// SWR organization the image belongs to.
    pub namespace: String,
    /// Version tag, if the record has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Built-in system image or the user's own.
    #[serde(rename = "type")]
    pub image_type: ImageType,
    /// Workspace; `"0"` is the default workspace and the value when the field is
    /// absent or `null`.
    #[serde(
        default = "default_workspace_id",
        deserialize_with = "null_as_default_workspace_id"
    )]
    pub workspace_id: String,
    /// Service type; [`ServiceType::Unknown`] when absent or `null`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub service_type: ServiceType,
    /// Creation time, UTC milliseconds since the Unix epoch.
    pub create_at: i64,
    /// Last update time, UTC milliseconds since the Unix epoch.
    pub update_at: i64,
}

/// The workspace a record without `workspace_id` belongs to.
pub(crate) const DEFAULT_WORKSPACE_ID: &str = "0";

fn default_workspace_id() -> String {
    DEFAULT_WORKSPACE_ID.to_string()
}

fn null_as_default_workspace_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(default_workspace_id))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Defines a fieldless enum whose API spelling is used by serde, `FromStr` and
/// `Display` alike, with an error that lists the valid spellings.
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $spelling)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The API spelling, e.g. as it appears in JSON and query strings.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $spelling,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            /// Parses the exact, upper-case API spelling.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($spelling => Ok($name::$variant),)+
                    _ => Err(ParseEnumError { what: $what, valid: concat!($("`", $spelling, "` "),+) }),
                }
            }
        }
    };
}

api_enum! {
    /// Whether an image is built into the platform or the user's own
    /// (`type` in the API).
    ImageType, "image type" {
        /// `BUILD_IN`: a built-in system image.
        BuildIn = "BUILD_IN",
        /// `DEDICATED`: an image the user saved.
        Dedicated = "DEDICATED",
    }
}

api_enum! {
    /// What an image serves (`service_type` in the API).
    ServiceType, "service type" {
        /// `COMMON`.
        Common = "COMMON",
        /// `INFERENCE`.
        Inference = "INFERENCE",
        /// `TRAIN`.
        Train = "TRAIN",
        /// `DEV`.
        Dev = "DEV",
        /// `UNKNOWN`, also the value of a record without `service_type`.
        Unknown = "UNKNOWN",
    }
}

impl Default for ServiceType {
    /// [`ServiceType::Unknown`], the value of a record without `service_type`.
    fn default() -> Self {
        ServiceType::Unknown
    }
}

/// A string that is not one of an enum's API spellings.
///
/// ```
/// use image_groups::ImageType;
///
/// let err = "dedicated".parse::<ImageType>().unwrap_err();
/// assert_eq!(err.to_string(), "not an image type: expected one of `BUILD_IN` `DEDICATED`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseEnumError {
    what: &'static str,
    valid: &'static str,
}

impl ParseEnumError {
    /// The valid spellings, each in backquotes, separated by spaces.
    pub(crate) fn valid(&self) -> &'static str {
        self.valid.trim_end()
    }
}

impl fmt::Display for ParseEnumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an {}: expected one of {}", self.what, self.valid())
    }
}

impl std::error::Error for ParseEnumError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_display_and_from_str() {
        for t in ImageType::ALL {
            assert_eq!(t.to_string().parse::<ImageType>(), Ok(*t));
        }
        for s in ServiceType::ALL {
            assert_eq!(s.to_string().parse::<ServiceType>(), Ok(*s));
        }
    }

    #[test]
    fn enum_spellings_are_exact_upper_case() {
        assert!("build_in".parse::<ImageType>().is_err());
        assert!("Train".parse::<ServiceType>().is_err());
        assert!(" DEV".parse::<ServiceType>().is_err());
    }

    #[test]
    fn serde_uses_the_api_spelling() {
        assert_eq!(
            serde_json::to_string(&ServiceType::Inference).unwrap(),
            "\"INFERENCE\""
        );
        let t: ImageType = serde_json::from_str("\"DEDICATED\"").unwrap();
        assert_eq!(t, ImageType::Dedicated);
    }

    #[test]
    fn null_optional_fields_take_their_defaults() {
        let v: ImageVersion = serde_json::from_str(
            r#"{"id":"i","name":"n","namespace":"s","type":"DEDICATED","create_at":1,
                "update_at":2,"workspace_id":null,"service_type":null,"tag":null}"#,
        )
        .unwrap();
        assert_eq!(v.workspace_id, "0");
        assert_eq!(v.service_type, ServiceType::Unknown);
        assert_eq!(v.tag, None);
    }
}
