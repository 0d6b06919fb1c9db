//! The two enums of an image version: [`ImageType`] and [`ServiceType`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::params::Param;
use crate::query_error::QueryError;

/// Defines a fieldless enum whose API spelling is used by serde, `FromStr` and
/// `Display` alike: the spellings are written here once.
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $param:expr, {
            $( $(#[$vmeta:meta])* $variant:ident = $spelling:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $spelling)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every API spelling, in declaration order.
            const SPELLINGS: &'static [&'static str] = &[$($spelling),+];

            /// The API spelling, as it appears in JSON and query strings.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $spelling,)+
                }
            }
        }

        impl fmt::Display for $name {
            /// Writes the API spelling.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = QueryError;

            /// Parses the exact, upper-case API spelling.
            ///
            /// # Errors
            /// `ModelArts.0104` naming the query parameter this is the value
            /// of, and listing the spellings.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($spelling => Ok($name::$variant),)+
                    _ => Err(QueryError::not_one_of($param, s, Self::SPELLINGS)),
                }
            }
        }
    };
}

api_enum! {
    /// Whether an image is built into the platform or the user's own
    /// (`type` in the API).
    ///
    /// Non-exhaustive: the platform may add image types.
    ///
    /// ```
    /// use image_groups::ImageType;
    ///
    /// assert_eq!("BUILD_IN".parse::<ImageType>().unwrap(), ImageType::BuildIn);
    /// let err = "dedicated".parse::<ImageType>().unwrap_err();
    /// assert_eq!(err.parameter(), Some("type"));
    /// assert!(err.to_string().ends_with("must be one of `BUILD_IN`, `DEDICATED` (upper case)"));
    /// ```
    ImageType, Param::Type, {
        /// `BUILD_IN`: a built-in system image.
        BuildIn = "BUILD_IN",
        /// `DEDICATED`: an image the user saved.
        Dedicated = "DEDICATED",
    }
}

api_enum! {
    /// What an image serves (`service_type` in the API).
    ///
    /// Non-exhaustive: the platform may add service types.
    ///
    /// ```
    /// use image_groups::ServiceType;
    ///
    /// assert_eq!(ServiceType::default(), ServiceType::Unknown);
    /// assert_eq!(ServiceType::Train.to_string(), "TRAIN");
    /// assert_eq!("Train".parse::<ServiceType>().unwrap_err().parameter(), Some("service_type"));
    /// ```
    ServiceType, Param::ServiceType, {
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
}
