//! The legal edits as a prompt lists them: grouped by stage and decision,
//! each group one line, so that hundreds of edits cost a few hundred
//! characters. The answer spells an edit out in colt-ir's syntax (the
//! grammar enumerates the exact strings); this list only says which values
//! are open.

use colt_ir::schedule::{Candidate, Edit};
use std::fmt::Write;

/// One line per (stage, decision); stages in program order, decisions in
/// the order `legal_edits` produces them.
pub fn legal_edits_text(candidate: &Candidate, legal: &[Edit]) -> String {
    // (stage, key) → values, in first-seen order.
    let mut groups: Vec<(String, String, Vec<String>)> = Vec::new();
    for edit in legal {
        let (key, value) = group_of(candidate, edit);
        let stage = edit.stage().to_string();
        match groups.iter_mut().find(|(s, k, _)| *s == stage && *k == key) {
            Some((_, _, values)) => values.push(value),
            None => groups.push((stage, key, vec![value])),
        }
    }
    let mut out = String::new();
    let mut last_stage = None;
    for (stage, key, values) in &groups {
        if last_stage != Some(stage) {
            let _ = writeln!(out, "{stage}:");
            last_stage = Some(stage);
        }
        let _ = writeln!(out, " {key}{{{}}}", values.join(","));
    }
    out
}

/// The group an edit belongs to and the value it sets, e.g.
/// (`tile i=[2,1,_] _∈`, `64`) or (`pack B layout∈`, `packed`): the edit's
/// kind, the arguments between the stage and the last (which say what the
/// value is set on), and the last argument's name; the value is the last
/// argument. Names come from the edit itself (colt-ir's edit kinds), so a
/// new kind of edit is grouped without a change here.
fn group_of(candidate: &Candidate, edit: &Edit) -> (String, String) {
    let kind = edit.kind().name();
    if let Edit::Tile { stage, axis, factors } = edit {
        let current = current_tiles(candidate, stage, axis);
        // A legal tile edit changes exactly one level; the template
        // shows the others and a `_` where the value goes.
        let level =
            current.as_ref().and_then(|cur| (0..factors.len()).find(|&l| cur.get(l) != factors.get(l))).unwrap_or(0);
        let template: Vec<String> =
            factors.iter().enumerate().map(|(l, f)| if l == level { "_".to_string() } else { f.to_string() }).collect();
        return (
            format!("{kind} {axis}=[{}] _∈", template.join(",")),
            factors.get(level).map_or(String::new(), |f| f.to_string()),
        );
    }
    let args = edit.arguments();
    let Some(((last_name, value), between)) = args.split_last() else {
        return (kind.to_string(), String::new());
    };
    let mut key = kind.to_string();
    for (_, what) in between.iter().skip(1) {
        key.push(' ');
        key.push_str(&what.unquoted());
    }
    (format!("{key} {last_name}∈"), value.unquoted())
}

fn current_tiles(candidate: &Candidate, stage: &str, axis: &str) -> Option<Vec<usize>> {
    let s = candidate.stage_index(stage)?;
    let a = candidate.program().stages()[s].axes.iter().position(|x| x.name == axis)?;
    candidate.stages()[s].tiles.get(a).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use colt_ir::schedule::legal_edits;
    use std::sync::Arc;

    #[test]
    fn every_legal_value_appears_once_in_its_group() {
        let program = Arc::new(colt_ir::builtin("gemm-512").unwrap().program(colt_ir::Size::Bench));
        let c = Candidate::sample(program, 3);
        let legal = legal_edits(&c);
        let text = legal_edits_text(&c, &legal);
        let values: usize = text
            .lines()
            .filter_map(|l| l.split_once('{'))
            .map(|(_, v)| v.trim_end_matches('}').split(',').count())
            .sum();
        assert_eq!(values, legal.len(), "{text}");
        assert!(text.starts_with("C:\n"), "{text}");
        assert!(text.contains(" unroll depth∈{"), "{text}");
    }
}
