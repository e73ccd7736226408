//! The strategies a job can run, by name.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a job generates the candidates it measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Strategy {
    /// The shared multi-model tree of DESIGN.md, with variants for
    /// ablations.
    Colt(ColtVariant),
    /// The same search with only the largest model.
    Single,
    /// The same search with no model: every expansion is a random legal
    /// edit.
    Mcts,
    /// MetaSchedule's evolutionary search with the same cost model.
    Evolutionary,
    /// Random candidates of the design space.
    Random,
}

/// Ablations of `colt`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColtVariant {
    /// No escalation to the largest model (`colt:no-course-alteration`).
    pub no_course_alteration: bool,
    /// λ overridden (`colt:lambda=X`).
    pub lambda: Option<f64>,
    /// One tree per model, no sharing (`colt:separate-trees`): a model
    /// expands only its own tree and never sees another's nodes, so it
    /// cannot hand its work to another model either. The trees share what
    /// every strategy shares: the job's trial budget, its measurements (a
    /// candidate two trees reach is measured once) and the cost model.
    /// What is left is exactly the claim under test: that sharing one tree
    /// helps.
    #[serde(default)]
    pub separate_trees: bool,
}

impl Strategy {
    pub fn colt() -> Strategy {
        Strategy::Colt(ColtVariant::default())
    }

    /// Whether the strategy calls models.
    pub fn uses_models(&self) -> bool {
        matches!(self, Strategy::Colt(_) | Strategy::Single)
    }

    /// Whether the job grows one tree per model instead of one shared tree.
    pub fn separate_trees(&self) -> bool {
        matches!(self, Strategy::Colt(v) if v.separate_trees)
    }

    /// Whether its candidates come from the search tree's expansions.
    pub fn is_tree_search(&self) -> bool {
        matches!(self, Strategy::Colt(_) | Strategy::Single | Strategy::Mcts)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Colt(v) => {
                f.write_str("colt")?;
                if v.separate_trees {
                    f.write_str(":separate-trees")?;
                }
                if v.no_course_alteration {
                    f.write_str(":no-course-alteration")?;
                }
                if let Some(l) = v.lambda {
                    write!(f, ":lambda={l}")?;
                }
                Ok(())
            }
            Strategy::Single => f.write_str("single"),
            Strategy::Mcts => f.write_str("mcts"),
            Strategy::Evolutionary => f.write_str("evolutionary"),
            Strategy::Random => f.write_str("random"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown strategy `{text}`: expected colt, colt:separate-trees, colt:no-course-alteration, colt:lambda=X (X in [0, 1]), single, mcts, evolutionary or random"
)]
pub struct StrategyParseError {
    pub text: String,
}

impl FromStr for Strategy {
    type Err = StrategyParseError;

    fn from_str(text: &str) -> Result<Strategy, StrategyParseError> {
        let error = || StrategyParseError { text: text.to_string() };
        let mut parts = text.trim().split(':');
        let head = parts.next().unwrap_or_default();
        let strategy = match head {
            "colt" => {
                let mut variant = ColtVariant::default();
                for part in parts.by_ref() {
                    if part == "no-course-alteration" {
                        variant.no_course_alteration = true;
                    } else if part == "separate-trees" {
                        variant.separate_trees = true;
                    } else if let Some(x) = part.strip_prefix("lambda=") {
                        let l: f64 = x.parse().map_err(|_| error())?;
                        if !(0.0..=1.0).contains(&l) {
                            return Err(error());
                        }
                        variant.lambda = Some(l);
                    } else {
                        return Err(error());
                    }
                }
                Strategy::Colt(variant)
            }
            "single" => Strategy::Single,
            "mcts" => Strategy::Mcts,
            "evolutionary" => Strategy::Evolutionary,
            "random" => Strategy::Random,
            _ => return Err(error()),
        };
        if parts.next().is_some() {
            return Err(error());
        }
        Ok(strategy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_print_as_they_parse() {
        for text in [
            "colt",
            "colt:separate-trees",
            "colt:no-course-alteration",
            "colt:lambda=0.5",
            "colt:separate-trees:lambda=0.3",
            "single",
            "mcts",
            "evolutionary",
            "random",
        ] {
            let s: Strategy = text.parse().unwrap();
            assert_eq!(s.to_string(), text);
        }
    }

    #[test]
    fn unknown_strategies_are_named() {
        for text in ["colt:lambda=2", "colt:fast", "genetic", "mcts:x"] {
            let e = text.parse::<Strategy>().unwrap_err();
            assert!(e.to_string().contains(&format!("`{text}`")), "{e}");
        }
    }
}
