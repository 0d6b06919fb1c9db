//! [`VersionRef`]: a version as the catalog keeps it, lent out.

use std::fmt;

use super::versions::Stored;
use super::workspace::Workspace;
use crate::kinds::{ImageType, ServiceType};
use crate::version::ImageVersion;

/// A version held by a [`Catalog`](crate::Catalog), borrowed: its fields
/// read from the catalog without copying (the catalog keeps a group's name,
/// namespace and workspace once for all its versions, so an owned
/// [`ImageVersion`] would have to be rebuilt).
///
/// ```
/// use image_groups::{Catalog, ImageType, ImageVersion};
///
/// let v = ImageVersion::new("a", "torch", "ml", ImageType::Dedicated, 1, 2).with_tag("v1");
/// let catalog = Catalog::from_records([v.clone()]);
/// let lent = catalog.get("a").unwrap();
/// assert_eq!((lent.name(), lent.tag()), ("torch", Some("v1")));
/// assert_eq!(lent.to_version(), v);
/// ```
#[derive(Clone, Copy)]
pub struct VersionRef<'c> {
    workspace: &'c Workspace,
    stored: &'c Stored,
}

impl<'c> VersionRef<'c> {
    pub(super) fn new(workspace: &'c Workspace, stored: &'c Stored) -> Self {
        VersionRef { workspace, stored }
    }

    /// The version's `id`.
    pub fn id(&self) -> &'c str {
        self.stored.id()
    }

    /// Its image name.
    pub fn name(&self) -> &'c str {
        let workspace = self.workspace;
        workspace
            .group_names
            .get_str(workspace.groups[self.stored.group as usize].name)
    }

    /// Its SWR organization.
    pub fn namespace(&self) -> &'c str {
        self.workspace.namespace(self.stored.group)
    }

    /// Its tag, if it has one.
    pub fn tag(&self) -> Option<&'c str> {
        self.stored.tag()
    }

    /// Its SWR enterprise instance; `None` for the shared SWR.
    pub fn swr_instance_id(&self) -> Option<&'c str> {
        self.workspace.instance(self.stored.group)
    }

    /// Its `type`.
    pub fn image_type(&self) -> ImageType {
        self.stored.image_type
    }

    /// Its workspace.
    pub fn workspace_id(&self) -> &'c str {
        &self.workspace.id
    }

    /// Its `service_type`.
    pub fn service_type(&self) -> ServiceType {
        self.stored.service_type
    }

    /// Its creation time, UTC milliseconds since the Unix epoch.
    pub fn create_at(&self) -> i64 {
        self.stored.create_at
    }

    /// Its last update time, UTC milliseconds since the Unix epoch.
    pub fn update_at(&self) -> i64 {
        self.stored.update_at
    }

    /// An owned copy, equal to the version given to the catalog.
    pub fn to_version(&self) -> ImageVersion {
        let mut version = ImageVersion::new(
            self.id(),
            self.name(),
            self.namespace(),
            self.image_type(),
            self.create_at(),
            self.update_at(),
        )
        .with_workspace_id(self.workspace_id())
        .with_service_type(self.service_type());
        version.swr_instance_id = self.swr_instance_id().map(str::to_string);
        version.tag = self.tag().map(str::to_string);
        version
    }
}

impl fmt::Debug for VersionRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_version(), f)
    }
}

impl PartialEq<ImageVersion> for VersionRef<'_> {
    fn eq(&self, other: &ImageVersion) -> bool {
        self.to_version() == *other
    }
}
