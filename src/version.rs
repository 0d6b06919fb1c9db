//! The input: one image version, [`ImageVersion`].

use serde::{Deserialize, Deserializer, Serialize};

use crate::kinds::{ImageType, ServiceType};

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
/// Non-exhaustive, since the API's record grows: build one with
/// [`ImageVersion::new`] and the `with_*` methods, or deserialize it. Its
/// fields are public to read and to change.
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
#[non_exhaustive]
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
    /// The SWR enterprise instance holding the image's repository; `None`
    /// for the shared SWR. Records text with the field absent, `null` or
    /// empty, and [`with_swr_instance_id("")`](Self::with_swr_instance_id),
    /// give `None`; a `Some(String::new())` set on the field directly is
    /// taken as it is: an instance whose id is empty, grouped apart from the
    /// shared SWR. With `namespace` and `name`, the group key.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub swr_instance_id: Option<String>,
    /// Creation time, UTC milliseconds since the Unix epoch.
    pub create_at: i64,
    /// Last update time, UTC milliseconds since the Unix epoch.
    pub update_at: i64,
}

impl ImageVersion {
    /// A version with the fields every record must have; it is in the
    /// default workspace (`"0"`), has no tag and service type
    /// [`ServiceType::Unknown`], as a record without those fields.
    ///
    /// `create_at` and `update_at` are UTC milliseconds since the Unix epoch.
    ///
    /// ```
    /// use image_groups::{ImageType, ImageVersion, ServiceType};
    ///
    /// let v = ImageVersion::new("e2f0c1d6", "pytorch", "ml", ImageType::Dedicated, 1000, 2000)
    ///     .with_workspace_id("ws-1")
    ///     .with_service_type(ServiceType::Train)
    ///     .with_tag("v1");
    /// assert_eq!(v.workspace_id, "ws-1");
    /// assert_eq!(v.tag.as_deref(), Some("v1"));
    /// ```
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        namespace: impl Into<String>,
        image_type: ImageType,
        create_at: i64,
        update_at: i64,
    ) -> Self {
        ImageVersion {
            id: id.into(),
            name: name.into(),
            namespace: namespace.into(),
            tag: None,
            image_type,
            workspace_id: default_workspace_id(),
            service_type: ServiceType::Unknown,
            swr_instance_id: None,
            create_at,
            update_at,
        }
    }

    /// The same version in workspace `workspace_id`.
    pub fn with_workspace_id(mut self, workspace_id: impl Into<String>) -> Self {
        self.workspace_id = workspace_id.into();
        self
    }

    /// The same version with service type `service_type`.
    pub fn with_service_type(mut self, service_type: ServiceType) -> Self {
        self.service_type = service_type;
        self
    }

    /// The same version in SWR enterprise instance `swr_instance_id`.
    pub fn with_swr_instance_id(mut self, swr_instance_id: impl Into<String>) -> Self {
        self.swr_instance_id = Some(swr_instance_id.into()).filter(|id| !id.is_empty());
        self
    }

    /// The same version with tag `tag`.
    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }
}

/// The workspace a record without `workspace_id` belongs to.
pub(crate) const DEFAULT_WORKSPACE_ID: &str = "0";

fn default_workspace_id() -> String {
    DEFAULT_WORKSPACE_ID.to_string()
}

fn null_as_default_workspace_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(default_workspace_id))
}

fn empty_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn an_empty_or_null_swr_instance_id_is_the_shared_swr() {
        for given in [r#""""#, "null"] {
            let v: ImageVersion = serde_json::from_str(&format!(
                r#"{{"id":"i","name":"n","namespace":"s","type":"DEDICATED","create_at":1,
                    "update_at":2,"swr_instance_id":{given}}}"#
            ))
            .unwrap();
            assert_eq!(v.swr_instance_id, None, "{given}");
        }
        let v = ImageVersion::new("i", "n", "s", ImageType::Dedicated, 1, 2);
        assert_eq!(v.clone().with_swr_instance_id("").swr_instance_id, None);
        let v = v.with_swr_instance_id("inst-1");
        assert_eq!(v.swr_instance_id.as_deref(), Some("inst-1"));
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["swr_instance_id"], "inst-1");
    }

    #[test]
    fn new_has_the_defaults_of_a_record_without_optional_fields() {
        let parsed: ImageVersion = serde_json::from_str(
            r#"{"id":"i","name":"n","namespace":"s","type":"DEDICATED","create_at":1,"update_at":2}"#,
        )
        .unwrap();
        assert_eq!(
            ImageVersion::new("i", "n", "s", ImageType::Dedicated, 1, 2),
            parsed
        );
    }
}
