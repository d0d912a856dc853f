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

/// Which implementation: one of the five built-in designs, or a team's own enactor run as an
/// outside process through the documented protocol (`docs/enactor-protocol.md`).
///
/// Copy, compared and ordered by name (built-ins first, in [`EnactorKind::ALL`]'s order), so
/// that an outside enactor read back by name from a summary or an `expect:` key is the same
/// implementation as the one its plan declared with a command.
#[derive(Debug, Clone, Copy)]
pub enum EnactorKind {
    Legacy,
    Single,
    Revalidating,
    Converging,
    Fenced,
    /// An outside enactor; specs live for the whole process (see [`EnactorKind::outside`]).
    Outside(&'static OutsideEnactor),
}

/// A team's own enactor: a name and the command that starts one instance of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OutsideEnactor {
    /// Letters, digits and '-'; not a built-in's name.
    pub name: String,
    /// Program and arguments; empty when only the name is known (read back from a summary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// It speaks the pause handshake (`reached` / `continue`), so named-point pauses can hold it
    /// (default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checkpoints: bool,
}

/// Every outside enactor spec seen by this process, leaked once each so that [`EnactorKind`]
/// stays `Copy`. A handful per process: the plans and `--enactor-cmd` flags of one invocation.
static OUTSIDE: std::sync::Mutex<Vec<&'static OutsideEnactor>> = std::sync::Mutex::new(Vec::new());

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
            EnactorKind::Outside(o) => &o.name,
        }
    }

    /// A built-in by name, or an outside enactor this process has already been told about.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).or_else(|| Self::known_outside(s))
    }

    /// A built-in by name, else an outside enactor of that name (with its command when this
    /// process knows it, else by name only).
    pub fn by_name(s: &str) -> Self {
        Self::parse(s).unwrap_or_else(|| Self::outside(OutsideEnactor { name: s.to_string(), command: Vec::new(), checkpoints: false }))
    }

    /// The outside enactor `spec`, registered for this process (a spec with a command replaces
    /// a name-only one of the same name).
    pub fn outside(spec: OutsideEnactor) -> Self {
        let mut known = OUTSIDE.lock().expect("outside enactors");
        if let Some(k) = known.iter().find(|k| ***k == spec) {
            return EnactorKind::Outside(*k);
        }
        if spec.command.is_empty() {
            if let Some(k) = known.iter().rev().find(|k| k.name == spec.name) {
                return EnactorKind::Outside(*k);
            }
        }
        let leaked: &'static OutsideEnactor = Box::leak(Box::new(spec));
        known.push(leaked);
        EnactorKind::Outside(leaked)
    }

    fn known_outside(name: &str) -> Option<Self> {
        let known = OUTSIDE.lock().expect("outside enactors");
        known.iter().rev().find(|k| k.name == name && !k.command.is_empty()).map(|k| EnactorKind::Outside(*k))
    }

    /// The outside enactor's spec, for an outside enactor.
    pub fn outside_spec(self) -> Option<&'static OutsideEnactor> {
        match self {
            EnactorKind::Outside(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_builtin(self) -> bool {
        !matches!(self, EnactorKind::Outside(_))
    }

    fn order_key(self) -> (usize, &'static str) {
        (Self::ALL.iter().position(|k| k.as_str() == self.as_str() && k.is_builtin()).unwrap_or(Self::ALL.len()), self.as_str())
    }

    /// Parse a `--enactor-cmd NAME=COMMAND` value (the command split on spaces); a name ending
    /// in `+checkpoints` declares the pause handshake.
    pub fn parse_command_flag(value: &str) -> Result<OutsideEnactor, String> {
        let (name, command) = value
            .split_once('=')
            .ok_or_else(|| format!("--enactor-cmd {value:?}: expected NAME=COMMAND (hint: --enactor-cmd 'mine=./my-enactor --flag')"))?;
        let (name, checkpoints) = match name.strip_suffix("+checkpoints") {
            Some(n) => (n, true),
            None => (name, false),
        };
        let command: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if command.is_empty() {
            return Err(format!("--enactor-cmd {value:?}: the command is empty (hint: --enactor-cmd 'mine=./my-enactor')"));
        }
        outside_name_problem(name).map_or(Ok(()), Err)?;
        Ok(OutsideEnactor { name: name.to_string(), command, checkpoints })
    }
}

/// Why `name` cannot name an outside enactor, if it cannot.
pub fn outside_name_problem(name: &str) -> Option<String> {
    if EnactorKind::ALL.iter().any(|k| k.as_str() == name) {
        return Some(format!("{name:?} is a built-in implementation's name (hint: call yours e.g. {name}-mine)"));
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Some(format!("{name:?} is not a valid enactor name (hint: letters, digits and '-')"));
    }
    None
}

impl PartialEq for EnactorKind {
    fn eq(&self, other: &Self) -> bool {
        self.order_key() == other.order_key()
    }
}

impl Eq for EnactorKind {}

impl std::hash::Hash for EnactorKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl PartialOrd for EnactorKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EnactorKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl std::fmt::Display for EnactorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// By name: a summary or an `expect:` key names the implementation; plans write outside
/// enactors in full through [`serde_implementations`].
impl Serialize for EnactorKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A name (a built-in, or an outside enactor known by name), or `{name, command, checkpoints}`.
impl<'de> Deserialize<'de> for EnactorKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = EnactorKind;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an implementation name (legacy, single, revalidating, converging, fenced) or {name, command}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EnactorKind, E> {
                Ok(EnactorKind::by_name(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<EnactorKind, A::Error> {
                let spec = OutsideEnactor::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                if let Some(problem) = outside_name_problem(&spec.name) {
                    return Err(serde::de::Error::custom(problem));
                }
                if spec.command.is_empty() {
                    return Err(serde::de::Error::custom(format!("outside enactor {:?} has no command (hint: command: [\"./my-enactor\"])", spec.name)));
                }
                Ok(EnactorKind::outside(spec))
            }
        }
        d.deserialize_any(V)
    }
}

/// Serde helpers for a plan's implementation list: built-ins by name, outside enactors in full
/// (so that a stored plan replays with its commands).
pub mod serde_implementations {
    use super::EnactorKind;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: serde::Serializer>(kinds: &[EnactorKind], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(kinds.len()))?;
        for k in kinds {
            match k.outside_spec() {
                Some(spec) => seq.serialize_element(spec)?,
                None => seq.serialize_element(k.as_str())?,
            }
        }
        seq.end()
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

