//! Which file columns play the five lightcurve roles.

use std::fmt;

/// The five roles a source table must provide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Object identifier (integer).
    Id,
    /// Observation time (e.g. MJD).
    Time,
    /// Flux (or magnitude).
    Flux,
    /// One-sigma flux error (must be positive and finite).
    Err,
    /// Photometric band (string).
    Band,
}

impl Role {
    /// All roles in canonical order.
    pub const ALL: [Role; 5] = [Role::Id, Role::Time, Role::Flux, Role::Err, Role::Band];

    /// Short lower-case name used in messages and `explain()`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Id => "id",
            Role::Time => "time",
            Role::Flux => "flux",
            Role::Err => "flux error",
            Role::Band => "band",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Maps the lightcurve roles to column names of a source table, like TAPE's `ColumnMapper`.
///
/// ```
/// use lsstseries::ColumnMap;
/// let map = ColumnMap::new("ps1_objid", "midPointTai", "psFlux", "psFluxErr", "filterName");
/// assert_eq!(map.column(lsstseries::Role::Band), "filterName");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ColumnMap {
    /// Object id column.
    pub id: String,
    /// Time column.
    pub time: String,
    /// Flux column.
    pub flux: String,
    /// Flux error column.
    pub err: String,
    /// Band column.
    pub band: String,
    /// When the band column holds integer codes: their names (see [`BandCodes`](super::BandCodes));
    /// decoding turns codes into names.
    pub band_codes: Option<super::BandCodes>,
}

impl ColumnMap {
    /// Builds a mapping from the five column names.
    pub fn new(
        id: impl Into<String>,
        time: impl Into<String>,
        flux: impl Into<String>,
        err: impl Into<String>,
        band: impl Into<String>,
    ) -> Self {
        ColumnMap {
            id: id.into(),
            time: time.into(),
            flux: flux.into(),
            err: err.into(),
            band: band.into(),
            band_codes: None,
        }
    }

    /// The same mapping, reading the band column as integer `codes`.
    pub fn with_band_codes(mut self, codes: super::BandCodes) -> Self {
        self.band_codes = Some(codes);
        self
    }

    /// TAPE's known map for ZTF light curves: `mjd`, `mag`, `magerr`, `band`; the id is
    /// `_hipscat_index` for HiPSCat/LSDB catalogs, else `ps1_objid`.
    pub fn ztf(hipscat: bool) -> Self {
        let id = if hipscat {
            "_hipscat_index"
        } else {
            "ps1_objid"
        };
        Self::new(id, "mjd", "mag", "magerr", "band")
    }

    /// TAPE's known map for Pan-STARRS1 detections: `obsTime`, `apFlux`, `apFluxErr`, and
    /// `filterID` read as codes (1 = g, ..., 5 = y); the id is `_hipscat_index` for
    /// HiPSCat/LSDB catalogs, else `objID`.
    pub fn ps1(hipscat: bool) -> Self {
        let id = if hipscat { "_hipscat_index" } else { "objID" };
        Self::new(id, "obsTime", "apFlux", "apFluxErr", "filterID")
            .with_band_codes(super::BandCodes::ps1())
    }

    /// The mapping used by TAPE's own tests and the bundled test file.
    pub fn tape() -> Self {
        Self::new(
            "ps1_objid",
            "midPointTai",
            "psFlux",
            "psFluxErr",
            "filterName",
        )
    }

    /// The mapping of files written by [`crate::io::generate`].
    pub fn generated() -> Self {
        Self::new("id", "mjd", "flux", "flux_err", "band")
    }

    /// The column that plays `role`.
    pub fn column(&self, role: Role) -> &str {
        match role {
            Role::Id => &self.id,
            Role::Time => &self.time,
            Role::Flux => &self.flux,
            Role::Err => &self.err,
            Role::Band => &self.band,
        }
    }

    /// The role a column plays, if any.
    pub fn role_of(&self, column: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| self.column(*r) == column)
    }
}
