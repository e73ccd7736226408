//! The kinds of edit, one table entry each: the name
//! [`Edit::parse`](super::Edit::parse) reads and [`Edit`](super::Edit)'s
//! `Display` prints, the arguments in print order, an example of the syntax
//! on each target (none where the target's space does not offer the kind),
//! and where the prompts' syntax block shows it. The parser's list of
//! names, the kinds and their order in [`legal_edits`](super::legal_edits),
//! and [`edit_syntax`] — the syntax block of the models' system prompts —
//! are all read from [`EDIT_KINDS`], so a new kind of edit is one entry
//! here and its arms in `edit.rs` (its variant and parse) and `legal.rs` (its proposals); no
//! prompt text changes by hand.

use super::Target;

/// Which decision an edit changes. Declared in the order of
/// [`Edit`](super::Edit)'s variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EditKind {
    Tile,
    Unroll,
    ComputeAt,
    Parallel,
    Vectorize,
    Accumulate,
    Pack,
    Fuse,
    Epilogue,
    Rfactor,
    Iterate,
}

/// One kind of edit, as the parser, the legal-edit enumeration and the
/// prompts know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EditKindSpec {
    pub kind: EditKind,
    /// The name before the parentheses, e.g. `tile`.
    pub name: &'static str,
    /// The arguments' names, in the order an edit prints them.
    pub args: &'static [&'static str],
    /// The syntax on the CPU, with placeholders, or `None` when the CPU's
    /// space does not offer this kind.
    pub cpu: Option<&'static str>,
    /// The same on OpenCL.
    pub opencl: Option<&'static str>,
    /// What the syntax block adds after the example.
    pub hint: Option<&'static str>,
    /// The line of the syntax block the example is on; kinds on one line
    /// follow the table's order.
    pub syntax_line: usize,
}

/// Every kind of edit, in the order [`legal_edits`](super::legal_edits)
/// proposes them for a stage.
pub const EDIT_KINDS: [EditKindSpec; 11] = [
    EditKindSpec {
        kind: EditKind::Tile,
        name: "tile",
        args: &["stage", "axis", "factors"],
        cpu: Some(r#"tile(stage="S", axis="a", factors=[f1,f2,f3])"#),
        opencl: Some(r#"tile(stage="S", axis="a", factors=[f1,f2,f3])"#),
        // The legal-edit list shows each tile as a template with a `_`
        // where the listed values go (colt-policy's `legal_list`).
        hint: Some("(fill the _ of a listed template with a listed value)"),
        syntax_line: 0,
    },
    EditKindSpec {
        kind: EditKind::Unroll,
        name: "unroll",
        args: &["stage", "depth"],
        cpu: Some(r#"unroll(stage="S", depth=N)"#),
        opencl: Some(r#"unroll(stage="S", depth=N)"#),
        hint: None,
        syntax_line: 1,
    },
    EditKindSpec {
        kind: EditKind::Parallel,
        name: "parallel",
        args: &["stage", "loops"],
        cpu: Some(r#"parallel(stage="S", loops=N)"#),
        // OpenCL binds every spatial loop to work-groups and work-items.
        opencl: None,
        hint: None,
        syntax_line: 1,
    },
    EditKindSpec {
        kind: EditKind::Vectorize,
        name: "vectorize",
        args: &["stage", "lanes"],
        cpu: Some(r#"vectorize(stage="S", lanes=N)"#),
        opencl: Some(r#"vectorize(stage="S", lanes=N)"#),
        hint: None,
        syntax_line: 1,
    },
    EditKindSpec {
        kind: EditKind::Rfactor,
        name: "rfactor",
        args: &["stage", "lanes"],
        cpu: Some(r#"rfactor(stage="S", lanes=N)"#),
        // OpenCL's work-items already split reductions' outputs; its space
        // has no vectorised-reduction lowering.
        opencl: None,
        hint: Some("(lanes along the reduction axis instead of the spatial one)"),
        syntax_line: 1,
    },
    EditKindSpec {
        kind: EditKind::Accumulate,
        name: "accumulate",
        args: &["stage", "into"],
        cpu: Some(r#"accumulate(stage="S", into="registers")"#),
        opencl: Some(r#"accumulate(stage="S", into="registers")"#),
        hint: None,
        syntax_line: 2,
    },
    EditKindSpec {
        kind: EditKind::Pack,
        name: "pack",
        args: &["stage", "operand", "layout"],
        cpu: Some(r#"pack(stage="S", operand="B", layout="packed")"#),
        opencl: Some(r#"pack(stage="S", operand="B", layout="local")"#),
        hint: None,
        syntax_line: 3,
    },
    EditKindSpec {
        kind: EditKind::Fuse,
        name: "fuse",
        args: &["stage", "with"],
        cpu: Some(r#"fuse(stage="S", with="S2")"#),
        // OpenCL computes each stage in its own kernel loops.
        opencl: None,
        hint: Some("(S2 an earlier reduction with S's axes; with=\"none\" undoes it)"),
        syntax_line: 4,
    },
    EditKindSpec {
        kind: EditKind::Epilogue,
        name: "epilogue",
        args: &["stage", "at"],
        cpu: Some(r#"epilogue(stage="S", at="S2")"#),
        opencl: None,
        hint: Some("(S elementwise on S2's fused accumulators; at=\"none\" undoes it)"),
        syntax_line: 4,
    },
    EditKindSpec {
        kind: EditKind::ComputeAt,
        name: "compute_at",
        args: &["stage", "at"],
        cpu: Some(r#"compute_at(stage="S", at="root")"#),
        opencl: Some(r#"compute_at(stage="S", at="root")"#),
        hint: None,
        syntax_line: 2,
    },
    EditKindSpec {
        kind: EditKind::Iterate,
        name: "iterate",
        args: &["stage", "points"],
        // Masked iteration clamps the CPU's loops (see `mask`); OpenCL's
        // work-items are bound to whole tiles.
        cpu: Some(r#"iterate(stage="S", points="kept")"#),
        opencl: None,
        hint: Some("(kept: only the points the stage's mask keeps; all: every point)"),
        syntax_line: 4,
    },
];

impl EditKind {
    /// Its entry in [`EDIT_KINDS`].
    pub fn spec(self) -> &'static EditKindSpec {
        // Invariant: EDIT_KINDS has one entry per kind (tested below).
        EDIT_KINDS.iter().find(|k| k.kind == self).expect("every edit kind has an entry in EDIT_KINDS")
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The kind called `name`, as [`Edit::parse`](super::Edit::parse) reads it.
    pub fn named(name: &str) -> Option<EditKind> {
        EDIT_KINDS.iter().find(|k| k.name == name).map(|k| k.kind)
    }
}

impl EditKindSpec {
    /// The syntax example on `target`, or `None` where `target`'s space
    /// does not offer this kind.
    pub fn example(&self, target: Target) -> Option<&'static str> {
        match target {
            Target::Cpu => self.cpu,
            Target::OpenCl => self.opencl,
        }
    }

    /// Whether `target`'s schedule space has edits of this kind.
    pub fn offered_on(&self, target: Target) -> bool {
        self.example(target).is_some()
    }
}

/// The edit syntax of `target`'s space as the models' system prompt shows
/// it: line by line, the examples of the kinds offered on `target` (each
/// followed by its hint), two spaces in and three apart.
pub fn edit_syntax(target: Target) -> String {
    let lines = EDIT_KINDS.iter().map(|k| k.syntax_line).max().unwrap_or(0);
    let mut out = String::new();
    for line in 0..=lines {
        let items: Vec<String> = EDIT_KINDS
            .iter()
            .filter(|k| k.syntax_line == line)
            .filter_map(|k| {
                let example = k.example(target)?;
                Some(match k.hint {
                    Some(hint) => format!("{example}   {hint}"),
                    None => example.to_string(),
                })
            })
            .collect();
        if !items.is_empty() {
            out.push_str("  ");
            out.push_str(&items.join("   "));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [EditKind; 11] = [
        EditKind::Tile,
        EditKind::Unroll,
        EditKind::ComputeAt,
        EditKind::Parallel,
        EditKind::Vectorize,
        EditKind::Accumulate,
        EditKind::Pack,
        EditKind::Fuse,
        EditKind::Epilogue,
        EditKind::Rfactor,
        EditKind::Iterate,
    ];

    #[test]
    fn every_kind_has_one_entry_and_one_name() {
        for kind in ALL {
            assert_eq!(EDIT_KINDS.iter().filter(|k| k.kind == kind).count(), 1, "{kind:?}");
            assert_eq!(EditKind::named(kind.name()), Some(kind));
        }
        assert_eq!(EDIT_KINDS.len(), ALL.len());
        assert_eq!(EditKind::named("swizzle"), None);
    }

    /// The keys of `name(k1=v1, k2=v2)`, which an example must share
    /// with the kind's `args` (its values are placeholders, so it does not
    /// parse as an edit).
    fn keys(example: &str) -> (&str, Vec<&str>) {
        let (name, rest) = example.split_once('(').unwrap();
        let keys = rest.trim_end_matches(')').split(", ").map(|arg| arg.split_once('=').unwrap().0).collect();
        (name, keys)
    }

    #[test]
    fn every_example_names_its_kind_and_its_arguments_in_order() {
        for spec in &EDIT_KINDS {
            for target in [Target::Cpu, Target::OpenCl] {
                if let Some(example) = spec.example(target) {
                    assert_eq!(keys(example), (spec.name, spec.args.to_vec()), "{example}");
                }
            }
        }
    }

    #[test]
    fn legal_edits_propose_exactly_the_kinds_a_target_offers() {
        use std::collections::BTreeSet;
        for target in [Target::Cpu, Target::OpenCl] {
            let mut proposed = BTreeSet::new();
            for w in crate::SUITE {
                let program = std::sync::Arc::new(w.program(crate::Size::Bench));
                for seed in 0..4 {
                    let c = super::super::Candidate::sample_on(program.clone(), target, seed);
                    proposed.extend(super::super::legal_edits(&c).iter().map(|e| e.kind()));
                }
            }
            let offered: BTreeSet<EditKind> =
                EDIT_KINDS.iter().filter(|k| k.offered_on(target)).map(|k| k.kind).collect();
            assert_eq!(proposed, offered, "{}", target.name());
        }
    }

    #[test]
    fn the_syntax_offers_each_target_what_its_space_has() {
        for target in [Target::Cpu, Target::OpenCl] {
            let syntax = edit_syntax(target);
            for spec in &EDIT_KINDS {
                assert_eq!(syntax.contains(&format!("{}(", spec.name)), spec.offered_on(target), "{syntax}");
            }
            assert!(syntax.lines().all(|l| l.starts_with("  ") && !l.ends_with(' ')), "{syntax}");
        }
        assert!(!edit_syntax(Target::OpenCl).contains("parallel(") && edit_syntax(Target::Cpu).contains("parallel("));
        assert!(edit_syntax(Target::Cpu).contains(r#"layout="packed""#));
        assert!(edit_syntax(Target::OpenCl).contains(r#"layout="local""#));
    }
}
