//! Compact text of a candidate for a model's prompt: its decisions, one
//! line per stage, and the outline of its lowered loop nest. A few hundred
//! tokens for the suite's workloads.

use super::edit::placement_text;
use super::{Accumulator, Candidate, Fusion, Placement};
use crate::program::AxisKind;
use std::fmt::Write;

impl Candidate {
    /// One line per stage: `C: at=root tile i=[8,1,4] j=[2,4,32] k=[8]
    /// parallel=1 vector=16 unroll=64 acc=registers`; inlined stages say
    /// so.
    pub fn decisions_text(&self) -> String {
        let program = self.program();
        let mut out = format!("sketch {}\n", self.sketch.name(program));
        if self.target() == super::Target::OpenCl {
            out = format!("opencl {out}");
        }
        for (s, sched) in self.stages.iter().enumerate() {
            let stage = &program.stages()[s];
            let name = program.stage_name(stage);
            if sched.placement == Placement::Inlined {
                let _ = writeln!(out, "{name}: inline");
                continue;
            }
            // A fused stage's loops are its leader's: say whose, and a
            // sibling's own packings.
            match sched.fused {
                Some(Fusion::Epilogue { leader }) => {
                    let _ = writeln!(out, "{name}: epilogue of {}", program.stage_name(&program.stages()[leader]));
                    continue;
                }
                Some(Fusion::Sibling { leader }) => {
                    let _ = write!(out, "{name}: fused with {}", program.stage_name(&program.stages()[leader]));
                    let _ = writeln!(out, "{}", self.packs_text(s));
                    continue;
                }
                None => {}
            }
            let tiles: Vec<String> = stage
                .axes
                .iter()
                .zip(&sched.tiles)
                .map(|(a, f)| {
                    let list: Vec<String> = f.iter().map(|x| x.to_string()).collect();
                    let kind = if a.kind == AxisKind::Reduction { "r:" } else { "" };
                    format!("{kind}{}{}=[{}]", a.name, a.extent, list.join(","))
                })
                .collect();
            let _ = write!(out, "{name}: at={} tile {}", placement_text(self, &sched.placement), tiles.join(" "));
            if sched.placement == Placement::Root && self.target() == super::Target::Cpu {
                let _ = write!(out, " parallel={}", sched.parallel);
            }
            let _ = write!(out, " vector={} unroll={}", sched.vector, sched.unroll);
            // Shown only when on, so that the text (and the prompts) of
            // every candidate without it stay as they were.
            if sched.rfactor > 1 {
                let _ = write!(out, " rfactor={}", sched.rfactor);
            }
            out.push_str(&self.packs_text(s));
            if !sched.local.is_empty() {
                let names: Vec<&str> =
                    sched.local.iter().map(|&b| program.buffer(crate::expr::BufferId(b)).name.as_str()).collect();
                let _ = write!(out, " local={}", names.join(","));
            }
            if stage.combine != crate::program::Combine::Assign {
                let acc = if sched.accumulator == Accumulator::Registers { "registers" } else { "memory" };
                let _ = write!(out, " acc={acc}");
            }
            // Printed only when used, so that every other candidate's text
            // (and the prompts and golden files showing it) is unchanged.
            if sched.iterate == super::Iterate::Kept {
                let _ = write!(out, " iterate=kept");
            }
            out.push('\n');
        }
        out
    }

    /// ` pack=A,B:blocked` for stage `s`'s packed operands, or nothing.
    fn packs_text(&self, s: usize) -> String {
        let sched = &self.stages[s];
        if sched.packed.is_empty() {
            return String::new();
        }
        let names: Vec<String> = sched
            .packed
            .iter()
            .map(|&b| {
                let name = &self.program().buffer(crate::expr::BufferId(b)).name;
                if sched.blocked.contains(&b) {
                    format!("{name}:blocked")
                } else {
                    name.clone()
                }
            })
            .collect();
        format!(" pack={}", names.join(","))
    }

    /// The decisions and the loop-nest outline, as a prompt shows a
    /// candidate.
    pub fn render(&self) -> String {
        let names: Vec<String> =
            self.program().stages().iter().map(|s| self.program().stage_name(s).to_string()).collect();
        format!("{}loops:\n{}", self.decisions_text(), super::lower(self).outline(&names))
    }
}
