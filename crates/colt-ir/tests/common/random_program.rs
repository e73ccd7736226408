//! Random valid programs, for property tests. Every program this produces
//! must validate; a failure to validate is a bug of the generator or of
//! validation, and the tests report it as such.
//!
//! The values it computes stay finite and away from branch thresholds that
//! rounding could flip: value comparisons read inputs only, divisions and
//! square roots take `1 + x*x`, so the C kernel and the interpreter agree to
//! the suite's tolerance whenever both are right.

use colt_ir::builder::{NamedCond, NamedExpr, NamedIndex};
use colt_ir::{BinaryOp, UnaryOp};
use colt_ir::{Buffer, BufferRole, CmpOp, Combine, Cond, DType, Expr, IndexExpr, Load, Name, ProgramDef, StageDef};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x2545_F491_4F6C_DD1D)
    }
    pub fn next(&mut self) -> u64 {
        colt_ir::data::splitmix64(&mut self.0)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

struct AxisInfo {
    name: String,
    extent: usize,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    buffers: Vec<Buffer>,
    /// Buffers a stage may read: inputs and what earlier stages wrote.
    readable: Vec<usize>,
    axes: Vec<AxisInfo>,
}

pub fn random_program(seed: u64) -> ProgramDef {
    let mut rng = Rng::new(seed);
    let mut g = Gen { rng: &mut rng, buffers: Vec::new(), readable: Vec::new(), axes: Vec::new() };
    let n_inputs = 1 + g.rng.below(3);
    for i in 0..n_inputs {
        let shape = g.shape();
        g.buffers.push(Buffer { name: format!("In{i}"), shape, dtype: DType::F32, role: BufferRole::Input });
        g.readable.push(i);
    }
    let n_stages = 1 + g.rng.below(3);
    let mut stages = Vec::new();
    for s in 0..n_stages {
        let role = if s + 1 == n_stages || g.rng.chance(20) { BufferRole::Output } else { BufferRole::Temp };
        let shape = g.shape();
        let name = format!("{}{s}", if role == BufferRole::Output { "Out" } else { "T" });
        let out = g.buffers.len();
        g.buffers.push(Buffer { name: name.clone(), shape: shape.clone(), dtype: DType::F32, role });
        stages.push(g.stage(out));
        g.readable.push(out);
    }
    // Drawn last, so that the programs without it are the ones these seeds
    // always made.
    if g.rng.chance(35) {
        stages.extend(g.gated_motif());
    }
    ProgramDef { name: format!("random-{seed}"), buffers: g.buffers, stages }
}

impl Gen<'_> {
    fn shape(&mut self) -> Vec<usize> {
        let rank = 1 + self.rng.below(3);
        (0..rank).map(|_| 1 + self.rng.below(7)).collect()
    }

    fn stage(&mut self, out: usize) -> StageDef {
        let combine = *self.rng.pick(&[Combine::Assign, Combine::Sum, Combine::Sum, Combine::Max]);
        self.stage_with(out, combine)
    }

    fn push_buffer(&mut self, name: &str, shape: &[usize], role: BufferRole) -> usize {
        self.buffers.push(Buffer { name: name.to_string(), shape: shape.to_vec(), dtype: DType::F32, role });
        self.buffers.len() - 1
    }

    /// A gated-MLP-like motif (`schedule::fusion`'s subject): a reduction
    /// `Gm`, a sibling `Um` over the same axes that reads what `Gm` reads
    /// and more (never `Gm`), and an elementwise `Hm` of both at its own
    /// point, sometimes followed by a reduction reading `Hm`. `Gm` is an
    /// output one time in four, so its store is kept.
    fn gated_motif(&mut self) -> Vec<StageDef> {
        let shape = self.shape();
        let role = if self.rng.chance(25) { BufferRole::Output } else { BufferRole::Temp };
        let gate = self.push_buffer("Gm", &shape, role);
        let combine = *self.rng.pick(&[Combine::Sum, Combine::Max]);
        let leader = self.stage_with(gate, combine);
        // Same axes as the leader (`self.axes` still holds them): its body
        // times another expression, so its reduction axes stay anchored.
        let up = self.push_buffer("Um", &shape, BufferRole::Temp);
        let extra = self.expr(2);
        let sibling = StageDef {
            output: Name::new("Um"),
            index: leader.index.clone(),
            combine: *self.rng.pick(&[Combine::Sum, Combine::Sum, Combine::Max]),
            body: Expr::Binary(BinaryOp::Mul, Box::new(leader.body.clone()), Box::new(extra)),
        };
        self.readable.extend([gate, up]);
        let hidden_role = if self.rng.chance(50) { BufferRole::Output } else { BufferRole::Temp };
        let hidden = self.push_buffer("Hm", &shape, hidden_role);
        let point = |name: &str| -> NamedExpr {
            let index = (0..shape.len()).map(|d| IndexExpr::Axis(Name::new(format!("s{d}")))).collect();
            Expr::Load(Load { buffer: Name::new(name), index, pad: None })
        };
        let op = *self.rng.pick(&[BinaryOp::Mul, BinaryOp::Add, BinaryOp::Sub, BinaryOp::Max]);
        let gated = Expr::Binary(
            BinaryOp::Div,
            Box::new(point("Gm")),
            Box::new(Expr::Binary(
                BinaryOp::Add,
                Box::new(Expr::Const(1.0)),
                Box::new(Expr::Binary(BinaryOp::Mul, Box::new(point("Gm")), Box::new(point("Gm")))),
            )),
        );
        let epilogue = StageDef {
            output: Name::new("Hm"),
            index: leader.index.clone(),
            combine: Combine::Assign,
            body: Expr::Binary(op, Box::new(gated), Box::new(point("Um"))),
        };
        self.readable.push(hidden);
        let mut stages = vec![leader, sibling, epilogue];
        if hidden_role == BufferRole::Temp {
            let out_shape = self.shape();
            let out = self.push_buffer("Ym", &out_shape, BufferRole::Output);
            stages.push(self.stage_with(out, Combine::Sum));
        }
        stages
    }

    fn stage_with(&mut self, out: usize, combine: Combine) -> StageDef {
        let shape = self.buffers[out].shape.clone();
        self.axes = shape.iter().enumerate().map(|(d, &e)| AxisInfo { name: format!("s{d}"), extent: e }).collect();
        // Reduction axes take their extent from a dimension of a buffer that
        // the body then indexes with the axis alone, so it can be inferred.
        let mut anchors: Vec<NamedExpr> = Vec::new();
        if combine != Combine::Assign {
            for r in 0..1 + self.rng.below(2) {
                let buffer = *self.rng.pick(&self.readable.clone());
                let dims = self.buffers[buffer].shape.clone();
                let dim = self.rng.below(dims.len());
                let name = format!("r{r}");
                self.axes.push(AxisInfo { name: name.clone(), extent: dims[dim] });
                let index: Vec<NamedIndex> = (0..dims.len())
                    .map(|d| if d == dim { IndexExpr::Axis(Name::new(name.clone())) } else { self.index_for(dims[d]) })
                    .collect();
                anchors.push(Expr::Load(Load {
                    buffer: Name::new(self.buffers[buffer].name.clone()),
                    index,
                    pad: None,
                }));
            }
        }
        let mut body = self.expr(3);
        for anchor in anchors {
            body = Expr::Binary(BinaryOp::Mul, Box::new(anchor), Box::new(body));
        }
        StageDef {
            output: Name::new(self.buffers[out].name.clone()),
            index: shape.iter().enumerate().map(|(d, _)| Name::new(format!("s{d}"))).collect(),
            combine,
            body,
        }
    }

    fn axis(&mut self) -> (NamedIndex, usize) {
        let a = self.rng.below(self.axes.len());
        (IndexExpr::Axis(Name::new(self.axes[a].name.clone())), self.axes[a].extent)
    }

    /// An index expression provably in `0..extent`.
    fn index_for(&mut self, extent: usize) -> NamedIndex {
        let same: Vec<usize> = (0..self.axes.len()).filter(|&a| self.axes[a].extent == extent).collect();
        match self.rng.below(5) {
            0 if !same.is_empty() => IndexExpr::Axis(Name::new(self.axes[*self.rng.pick(&same)].name.clone())),
            1 => IndexExpr::Const(self.rng.below(extent) as i64),
            2 => {
                let (a, _) = self.axis();
                let shifted = IndexExpr::Add(Box::new(a), Box::new(IndexExpr::Const(self.rng.below(5) as i64)));
                IndexExpr::Mod(Box::new(shifted), extent as i64)
            }
            3 => {
                let (a, e) = self.axis();
                let q = e.div_ceil(extent).max(1) as i64;
                IndexExpr::Div(Box::new(a), q)
            }
            _ => {
                // (2*a + b) % extent
                let (a, _) = self.axis();
                let (b, _) = self.axis();
                let sum = IndexExpr::Add(Box::new(IndexExpr::Mul(Box::new(a), 2)), Box::new(b));
                IndexExpr::Mod(Box::new(sum), extent as i64)
            }
        }
    }

    /// An index that may leave `0..extent`, for padded loads.
    fn index_maybe_outside(&mut self, extent: usize) -> NamedIndex {
        let (a, _) = self.axis();
        let offset = self.rng.below(5) as i64 - 2;
        if self.rng.chance(50) {
            IndexExpr::Sub(Box::new(a), Box::new(IndexExpr::Const(offset)))
        } else {
            let _ = extent;
            IndexExpr::Div(Box::new(IndexExpr::Add(Box::new(a), Box::new(IndexExpr::Const(offset)))), 2)
        }
    }

    fn load(&mut self, from_inputs_only: bool) -> NamedExpr {
        let candidates: Vec<usize> = self
            .readable
            .iter()
            .copied()
            .filter(|&b| !from_inputs_only || self.buffers[b].role == BufferRole::Input)
            .collect();
        let buffer = *self.rng.pick(&candidates);
        let shape = self.buffers[buffer].shape.clone();
        let padded = !from_inputs_only && self.rng.chance(25);
        let index = shape
            .iter()
            .map(|&e| if padded && self.rng.chance(60) { self.index_maybe_outside(e) } else { self.index_for(e) })
            .collect();
        let pad = padded.then(|| *self.rng.pick(&[0.0, -0.5, 1.25]));
        Expr::Load(Load { buffer: Name::new(self.buffers[buffer].name.clone()), index, pad })
    }

    fn constant(&mut self) -> NamedExpr {
        Expr::Const(*self.rng.pick(&[0.5, -1.5, 2.0, 0.125, -0.0625, 3.0]))
    }

    fn one_plus_square(&mut self, depth: usize) -> NamedExpr {
        let x = self.expr(depth);
        Expr::Binary(
            BinaryOp::Add,
            Box::new(Expr::Const(1.0)),
            Box::new(Expr::Binary(BinaryOp::Mul, Box::new(x.clone()), Box::new(x))),
        )
    }

    fn expr(&mut self, depth: usize) -> NamedExpr {
        if depth == 0 || self.rng.chance(25) {
            return if self.rng.chance(80) { self.load(false) } else { self.constant() };
        }
        let d = depth - 1;
        match self.rng.below(9) {
            0 => Expr::Unary(UnaryOp::Neg, Box::new(self.expr(d))),
            1 => {
                // exp of a bounded argument: a load scaled down.
                let x = Expr::Binary(BinaryOp::Mul, Box::new(self.load(false)), Box::new(Expr::Const(0.5)));
                Expr::Unary(UnaryOp::Exp, Box::new(x))
            }
            2 => Expr::Unary(UnaryOp::Sqrt, Box::new(self.one_plus_square(d))),
            3 => Expr::Binary(BinaryOp::Div, Box::new(self.expr(d)), Box::new(self.one_plus_square(d))),
            4 => {
                let op = *self.rng.pick(&[BinaryOp::Max, BinaryOp::Min]);
                Expr::Binary(op, Box::new(self.expr(d)), Box::new(self.expr(d)))
            }
            5 => Expr::Select(Box::new(self.cond()), Box::new(self.expr(d)), Box::new(self.expr(d))),
            _ => {
                let op = *self.rng.pick(&[BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul]);
                Expr::Binary(op, Box::new(self.expr(d)), Box::new(self.expr(d)))
            }
        }
    }

    fn cond(&mut self) -> NamedCond {
        let ops = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne];
        let leaf = |g: &mut Gen| -> NamedCond {
            let op = *g.rng.pick(&ops);
            if g.rng.chance(60) {
                let (a, _) = g.axis();
                let (b, e) = g.axis();
                let b = IndexExpr::Sub(Box::new(b), Box::new(IndexExpr::Const(g.rng.below(e + 1) as i64)));
                Cond::Index(a, op, b)
            } else {
                // Inputs are exact on both sides, so no rounding flips it.
                let threshold = Expr::Const(*g.rng.pick(&[0.0, 0.25, -0.5]));
                Cond::Value(g.load(true), op, threshold)
            }
        };
        match self.rng.below(4) {
            0 => Cond::And(Box::new(leaf(self)), Box::new(leaf(self))),
            1 => Cond::Or(Box::new(leaf(self)), Box::new(leaf(self))),
            _ => leaf(self),
        }
    }
}
