//! Tokens of the workload text format.

use crate::program::Pos;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Ident(String),
    Int(i64),
    Float(f32),
    /// The rest of a `workload` line: the name, which may hold `-` and `.`.
    Raw(String),
    Sym(&'static str),
    Newline,
    Eof,
}

impl Token {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("`{s}`"),
            Token::Int(i) => format!("`{i}`"),
            Token::Float(f) => format!("`{f:?}`"),
            Token::Raw(s) => format!("`{s}`"),
            Token::Sym(s) => format!("`{s}`"),
            Token::Newline => "end of line".to_string(),
            Token::Eof => "end of file".to_string(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Lexed {
    pub token: Token,
    pub pos: Pos,
}

/// A character the format has no use for, at its position.
#[derive(Clone, Debug)]
pub struct LexError {
    pub pos: Pos,
    pub message: String,
}

const SYMBOLS: &[&str] =
    &["+=", "<=", ">=", "==", "!=", "&&", "||", "[", "]", "(", ")", ",", "=", "+", "-", "*", "/", "%", "<", ">"];

/// Splits `text` into tokens. Newlines inside brackets or parentheses are
/// dropped, so a long stage may span lines; `#` starts a comment.
pub fn lex(text: &str) -> Result<Vec<Lexed>, LexError> {
    let mut tokens = Vec::new();
    // Open brackets and parentheses, innermost last: newlines inside them
    // do not end a statement, and one left open is reported where it opened.
    let mut open: Vec<(char, Pos)> = Vec::new();
    for (line_index, line) in text.lines().enumerate() {
        let line_no = line_index as u32 + 1;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        let mut first_on_line = true;
        while i < chars.len() {
            let c = chars[i];
            let pos = Pos { line: line_no, column: i as u32 + 1 };
            if c == '#' {
                break;
            }
            if c.is_whitespace() {
                i += 1;
                continue;
            }
            if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let is_header = first_on_line && open.is_empty() && word == "workload";
                tokens.push(Lexed { token: Token::Ident(word), pos });
                if is_header {
                    let rest: String = chars[i..].iter().collect();
                    let name = rest.split('#').next().unwrap_or("").trim().to_string();
                    let column = (i + rest.len() - rest.trim_start().len()) as u32 + 1;
                    tokens.push(Lexed { token: Token::Raw(name), pos: Pos { line: line_no, column } });
                    break;
                }
                first_on_line = false;
                continue;
            }
            first_on_line = false;
            if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
                let start = i;
                let mut is_float = false;
                while i < chars.len() {
                    let d = chars[i];
                    let exponent_sign = (d == '-' || d == '+') && matches!(chars[i - 1], 'e' | 'E');
                    if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exponent_sign {
                        is_float |= !d.is_ascii_digit();
                        i += 1;
                    } else {
                        break;
                    }
                }
                let text: String = chars[start..i].iter().collect();
                let token = if is_float {
                    text.parse::<f32>()
                        .map(Token::Float)
                        .map_err(|_| LexError { pos, message: format!("malformed number `{text}`") })?
                } else {
                    text.parse::<i64>()
                        .map(Token::Int)
                        .map_err(|_| LexError { pos, message: format!("integer `{text}` is too large") })?
                };
                tokens.push(Lexed { token, pos });
                continue;
            }
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
                return Err(LexError { pos, message: format!("unexpected character `{c}`") });
            };
            match *sym {
                "[" | "(" => open.push((c, pos)),
                "]" | ")" => {
                    let opener = if c == ']' { '[' } else { '(' };
                    match open.pop() {
                        Some((o, _)) if o == opener => {}
                        Some((o, at)) => {
                            return Err(LexError {
                                pos,
                                message: format!("`{c}` does not match the `{o}` opened at {at}"),
                            })
                        }
                        None => return Err(LexError { pos, message: format!("`{c}` closes nothing") }),
                    }
                }
                _ => {}
            }
            tokens.push(Lexed { token: Token::Sym(sym), pos });
            i += sym.len();
        }
        if open.is_empty() {
            tokens.push(Lexed { token: Token::Newline, pos: Pos { line: line_no, column: chars.len() as u32 + 1 } });
        }
    }
    if let Some((c, pos)) = open.first() {
        return Err(LexError { pos: *pos, message: format!("`{c}` is never closed") });
    }
    let last_line = text.lines().count() as u32 + 1;
    tokens.push(Lexed { token: Token::Eof, pos: Pos { line: last_line, column: 1 } });
    Ok(tokens)
}
