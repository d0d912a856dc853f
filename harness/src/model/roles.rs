//! Who runs in a world: the enactor implementations, the AZs they run in, and the named points
//! in their loops where a test or a fault can hold them. Plain data, so that chaos plans can name
//! them without depending on the code that runs them.

use serde::{Deserialize, Serialize};

/// The availability zones the simulated region has, one enactor each by default.
pub const AZS: [&str; 3] = ["use1-az1", "use1-az2", "use1-az4"];

/// The AZ name of enactor `i`.
pub fn az_name(i: usize) -> String {
    let base = AZS[i % AZS.len()];
    if i < AZS.len() {
        base.to_string()
    } else {
        format!("{base}-{}", i / AZS.len())
    }
}

/// Which implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum EnactorKind {
    Legacy,
    Single,
    Revalidating,
    Converging,
    Fenced,
}

impl EnactorKind {
    pub const ALL: [EnactorKind; 5] =
        [EnactorKind::Legacy, EnactorKind::Single, EnactorKind::Revalidating, EnactorKind::Converging, EnactorKind::Fenced];

    pub fn as_str(self) -> &'static str {
        match self {
            EnactorKind::Legacy => "legacy",
            EnactorKind::Single => "single",
            EnactorKind::Revalidating => "revalidating",
            EnactorKind::Converging => "converging",
            EnactorKind::Fenced => "fenced",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A named point in an enactor's loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Point {
    AfterStalenessCheck,
    BeforeBatch,
    BeforeCleanup,
}

impl Point {
    pub fn as_str(self) -> &'static str {
        match self {
            Point::AfterStalenessCheck => "after-staleness-check",
            Point::BeforeBatch => "before-batch",
            Point::BeforeCleanup => "before-cleanup",
        }
    }

    pub const ALL: [Point; 3] = [Point::AfterStalenessCheck, Point::BeforeBatch, Point::BeforeCleanup];
}

