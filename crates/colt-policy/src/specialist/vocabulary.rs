//! The specialist's vocabulary and the lexer of colt's schedule language.

use colt_ir::schedule::EDIT_KINDS;
use std::collections::HashMap;

/// Whole numbers up to this are one token each, and so are the powers of
/// two up to [`LARGEST_POWER_TOKEN`]; other numbers are spelled by their
/// digits (`#1 #7 #9 #2` is 1792). Tile factors, lanes and most depths are
/// below it, and most extents are powers of two; the digits serve the rest.
pub const WHOLE_NUMBERS: u32 = 256;
pub const LARGEST_POWER_TOKEN: u32 = 65_536;

/// Models a specialist can name as the next one to act: `<model0>` ...,
/// in the order of the job's roster.
pub const MAX_MODELS: usize = 8;

/// The markers that structure a specialist's sequence, after llama's
/// three special tokens (`<unk>`, `<s>`, `</s>`: the end of an answer).
const MARKERS: [&str; 7] = ["<nl>", "<machine>", "<program>", "<node>", "<answer>", "<edit>", "<next>"];

/// Words of the schedule language that are one token: the edit kinds and
/// their argument names (read from colt-ir's edit table), and the words of
/// the decision lines and of the program text. A word not listed is
/// spelled by its letters, so that any stage or axis name is expressible.
const WORDS: [&str; 42] = [
    // Decision lines (`Candidate::decisions_text`) and edit values.
    "sketch",
    "at",
    "root",
    "inline",
    "vector",
    "acc",
    "registers",
    "memory",
    "kept",
    "all",
    "none",
    "fused",
    "with",
    "epilogue",
    "of",
    "packed",
    "blocked",
    "original",
    "padded",
    "local",
    "opencl",
    "into",
    "operand",
    "layout",
    // The program text (`colt_ir::print_program`).
    "input",
    "temp",
    "output",
    "select",
    "exp",
    "sqrt",
    "max",
    "min",
    "inf",
    "tanh",
    "log",
    "abs",
    // The machine line.
    "lanes",
    "cores",
    "caches",
    "kib",
    "models",
    "params",
];

/// Punctuation and operators of the language, one token each.
const SYMBOLS: &str = "()[]{}=,:.+-*/<>!&|%^?;";

/// A token id of the specialist's vocabulary.
pub type TokenId = u32;

/// The specialist's vocabulary: every token's spelling (its string in the
/// GGUF) and the lexer that turns schedule-language text into tokens.
/// The same for every specialist of a version of colt: the tokens of a
/// text depend on the text alone.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    tokens: Vec<String>,
    ids: HashMap<String, TokenId>,
}

impl Default for Vocabulary {
    fn default() -> Vocabulary {
        Vocabulary::new()
    }
}

impl Vocabulary {
    pub fn new() -> Vocabulary {
        let mut tokens: Vec<String> = ["<unk>", "<s>", "</s>"].map(String::from).to_vec();
        tokens.extend(MARKERS.map(String::from));
        tokens.extend((0..MAX_MODELS).map(|i| format!("<model{i}>")));
        tokens.extend((0..=WHOLE_NUMBERS).map(|n| n.to_string()));
        let powers = (0..32).map(|p| 1u32 << p).filter(|&n| n > WHOLE_NUMBERS && n <= LARGEST_POWER_TOKEN);
        tokens.extend(powers.map(|n| n.to_string()));
        tokens.extend((0..10).map(|d| format!("#{d}")));
        tokens.extend(SYMBOLS.chars().map(String::from));
        tokens.extend(('a'..='z').chain('A'..='Z').chain(['_']).map(String::from));
        let edit_words = EDIT_KINDS.iter().flat_map(|k| std::iter::once(k.name).chain(k.args.iter().copied()));
        for word in WORDS.into_iter().chain(edit_words) {
            if !tokens.iter().any(|t| t == word) {
                tokens.push(word.to_string());
            }
        }
        let ids = tokens.iter().enumerate().map(|(i, t)| (t.clone(), i as TokenId)).collect();
        Vocabulary { tokens, ids }
    }

    /// Every token's spelling, in id order (what the GGUF's vocabulary lists).
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of a token spelled `text`, if the vocabulary has it.
    pub fn id(&self, text: &str) -> Option<TokenId> {
        self.ids.get(text).copied()
    }

    /// The id of a marker or a special token (always present).
    pub(crate) fn marker(&self, text: &str) -> TokenId {
        self.ids[text]
    }

    pub fn spelling(&self, id: TokenId) -> &str {
        self.tokens.get(id as usize).map_or("<unk>", String::as_str)
    }

    /// The tokens of `text`: whitespace and quotes dropped (they separate,
    /// they say nothing), a newline as `<nl>`, a run of letters and
    /// underscores as one word token where the vocabulary has the word and
    /// as its letters where not, a run of digits as a number (see
    /// [`WHOLE_NUMBERS`]; numbers in a row need a separator other than
    /// space), punctuation one token a character, and anything
    /// else (non-ASCII) as `<unk>`.
    pub fn encode(&self, text: &str) -> Vec<TokenId> {
        let mut out = Vec::with_capacity(text.len() / 2);
        self.encode_into(text, &mut out);
        out
    }

    pub fn encode_into(&self, text: &str, out: &mut Vec<TokenId>) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let run = |pred: fn(u8) -> bool| bytes[i..].iter().take_while(|&&c| pred(c)).count();
            match b {
                b'\n' => {
                    out.push(self.marker("<nl>"));
                    i += 1;
                }
                b' ' | b'\t' | b'\r' | b'"' => i += 1,
                b'0'..=b'9' => {
                    let len = run(|c| c.is_ascii_digit());
                    self.number(&text[i..i + len], out);
                    i += len;
                }
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                    let len = run(|c| c.is_ascii_alphabetic() || c == b'_');
                    let word = &text[i..i + len];
                    match self.id(word) {
                        Some(id) => out.push(id),
                        None => out.extend(word.chars().map(|c| self.ids[c.to_string().as_str()])),
                    }
                    i += len;
                }
                _ if b.is_ascii() => {
                    out.push(self.id(&text[i..i + 1]).unwrap_or(0));
                    i += 1;
                }
                _ => {
                    // One `<unk>` for the whole UTF-8 character.
                    out.push(0);
                    i += text[i..].chars().next().map_or(1, char::len_utf8);
                }
            }
        }
    }

    /// `digits` (ASCII digits) as one token where the vocabulary has the
    /// number (without leading zeros), else digit by digit.
    fn number(&self, digits: &str, out: &mut Vec<TokenId>) {
        let canonical = digits.len() == 1 || !digits.starts_with('0');
        match self.ids.get(digits).filter(|_| canonical) {
            Some(&id) => out.push(id),
            None => out.extend(digits.bytes().map(|d| self.ids[format!("#{}", d - b'0').as_str()])),
        }
    }

    /// The token that names the roster's `index`-th model as the next to act.
    pub fn model(&self, index: usize) -> Option<TokenId> {
        (index < MAX_MODELS).then(|| self.ids[format!("<model{index}>").as_str()])
    }

    /// The roster index a `<modelN>` token names.
    pub fn model_index(&self, id: TokenId) -> Option<usize> {
        let first = self.ids["<model0>"];
        (first..first + MAX_MODELS as TokenId).contains(&id).then(|| (id - first) as usize)
    }

    /// What names this vocabulary in a specialist's GGUF
    /// (`colt.specialist.vocabulary`): a hash of every token's spelling in
    /// order, so that a model trained with another vocabulary is told apart.
    pub fn fingerprint(&self) -> String {
        format!("colt-schedule-v1-{:016x}", colt_ir::fnv1a(self.tokens.join("\n").as_bytes()))
    }

    /// A readable rendering of tokens (each token's spelling, space-separated).
    pub fn render(&self, tokens: &[TokenId]) -> String {
        tokens.iter().map(|&t| self.spelling(t)).collect::<Vec<_>>().join(" ")
    }
}
