//! The module paths one Rust source file names: `crate::…`, `super::…` and `self::…`, in `use`
//! declarations (groups expanded) and inline, outside comments, literals and the file's own
//! `#[cfg(test)] mod … { … }`.
//!
//! A small tokenizer rather than regular expressions, so a `//` inside a string, a `'{'` char
//! literal or a nested block comment cannot hide or invent a path.

/// Where a path starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    /// `crate::`
    Crate,
    /// `super::` (one level; further `super`s stay in the names)
    Super,
    /// `self::`
    SelfMod,
}

/// One path the file names, e.g. `crate::model::keys::KeyEntry` on line 14.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRef {
    /// Its first segment.
    pub root: Root,
    /// The segments after the root (a leading run of `super` means more levels up).
    pub names: Vec<String>,
    /// 1-based line of its first segment.
    pub line: usize,
}

impl PathRef {
    /// The path as written, e.g. `crate::model::keys`.
    pub fn text(&self) -> String {
        let root = match self.root {
            Root::Crate => "crate",
            Root::Super => "super",
            Root::SelfMod => "self",
        };
        std::iter::once(root)
            .chain(self.names.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("::")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string, char or number literal (its content is irrelevant).
    Literal,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Every `crate::`/`super::`/`self::` path in `source`, in order of appearance.
pub fn path_refs(source: &str) -> Vec<PathRef> {
    let tokens = strip_test_modules(tokenize(source));
    let mut refs = use_tree_leaves(&tokens);
    refs.extend(inline_paths(&tokens));
    refs
}

fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < chars.len() {
        let c = chars[i];
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i = skip_block_comment(&chars, i, &mut line);
        } else if c == '"' {
            i = skip_quoted(&chars, i + 1, '"', &mut line);
            out.push(Token {
                tok: Tok::Literal,
                line: start_line,
            });
        } else if c == '\'' {
            i = skip_char_or_lifetime(&chars, i, &mut line, &mut out);
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let word: String = chars[i..j].iter().collect();
            if let Some(end) = literal_after_prefix(&word, &chars, j, &mut line) {
                out.push(Token {
                    tok: Tok::Literal,
                    line: start_line,
                });
                i = end;
            } else if word == "r" && chars.get(j) == Some(&'#') {
                // A raw identifier `r#name`: the name is the identifier.
                let mut k = j + 1;
                while k < chars.len() && (chars[k].is_alphanumeric() || chars[k] == '_') {
                    k += 1;
                }
                out.push(Token {
                    tok: Tok::Ident(chars[j + 1..k].iter().collect()),
                    line: start_line,
                });
                i = k;
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line: start_line,
                });
                i = j;
            }
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Literal,
                line: start_line,
            });
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push(Token {
                tok: Tok::PathSep,
                line: start_line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line: start_line,
            });
            i += 1;
        }
    }
    out
}

/// Skips `/* … */` (nested) starting at `i`; returns the index after it.
fn skip_block_comment(chars: &[char], mut i: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                i += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            (c, _) => {
                if c == '\n' {
                    *line += 1;
                }
                i += 1;
            }
        }
    }
    i
}

/// Skips an escaped literal body from `i` up to and including `close`.
fn skip_quoted(chars: &[char], mut i: usize, close: char, line: &mut usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                // An escape; `\` at the end of a line continues the string on the next.
                if chars.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '\n' => {
                *line += 1;
                i += 1;
            }
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// `'x'`, `'\n'` and `'\u{…}'` are char literals; `'a` and `'static` are lifetimes or labels.
fn skip_char_or_lifetime(
    chars: &[char],
    i: usize,
    line: &mut usize,
    out: &mut Vec<Token>,
) -> usize {
    let start_line = *line;
    let is_char = chars.get(i + 1) == Some(&'\\') || chars.get(i + 2) == Some(&'\'');
    if is_char {
        out.push(Token {
            tok: Tok::Literal,
            line: start_line,
        });
        return skip_quoted(chars, i + 1, '\'', line);
    }
    let mut j = i + 1;
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        j += 1;
    }
    out.push(Token {
        tok: Tok::Punct('\''),
        line: start_line,
    });
    j
}

/// After a word that may prefix a literal (`b"…"`, `r#"…"#`, `br"…"`, `c"…"`, `b'x'`):
/// the index after the literal, or `None` when the word is an ordinary identifier.
fn literal_after_prefix(word: &str, chars: &[char], j: usize, line: &mut usize) -> Option<usize> {
    let next = chars.get(j).copied();
    match (word, next) {
        ("b" | "c", Some('"')) => Some(skip_quoted(chars, j + 1, '"', line)),
        ("b", Some('\'')) => Some(skip_quoted(chars, j + 1, '\'', line)),
        ("r" | "br" | "cr", Some('"' | '#')) => {
            let mut k = j;
            while chars.get(k) == Some(&'#') {
                k += 1;
            }
            if chars.get(k) != Some(&'"') {
                return None; // `r#ident`
            }
            let hashes = k - j;
            k += 1;
            while k < chars.len() {
                if chars[k] == '\n' {
                    *line += 1;
                }
                if chars[k] == '"' && chars[k + 1..].iter().take(hashes).all(|&h| h == '#') {
                    let end = k + 1 + hashes;
                    if end <= chars.len() {
                        return Some(end);
                    }
                }
                k += 1;
            }
            Some(k)
        }
        _ => None,
    }
}

/// Drops every `#[cfg(test)] [#[…]]* [pub[(…)]] mod name { … }`: inside it `super::` means the
/// file itself, and test code does not shape the file's place among the others.
fn strip_test_modules(tokens: Vec<Token>) -> Vec<Token> {
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let Some(end) = test_module_end(&tokens, i) {
            i = end;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

fn test_module_end(t: &[Token], i: usize) -> Option<usize> {
    let is = |k: usize, tok: Tok| t.get(k).map(|x| &x.tok) == Some(&tok);
    let ident = |k: usize, name: &str| is(k, Tok::Ident(name.into()));
    let cfg_test = is(i, Tok::Punct('#'))
        && is(i + 1, Tok::Punct('['))
        && ident(i + 2, "cfg")
        && is(i + 3, Tok::Punct('('))
        && ident(i + 4, "test")
        && is(i + 5, Tok::Punct(')'))
        && is(i + 6, Tok::Punct(']'));
    if !cfg_test {
        return None;
    }
    let mut k = i + 7;
    // More attributes.
    while is(k, Tok::Punct('#')) && is(k + 1, Tok::Punct('[')) {
        k = after_group(t, k + 1, '[', ']')?;
    }
    if ident(k, "pub") {
        k += 1;
        if is(k, Tok::Punct('(')) {
            k = after_group(t, k, '(', ')')?;
        }
    }
    if !(ident(k, "mod")
        && matches!(t.get(k + 1).map(|x| &x.tok), Some(Tok::Ident(_)))
        && is(k + 2, Tok::Punct('{')))
    {
        return None;
    }
    after_group(t, k + 2, '{', '}')
}

/// The index after the group opened at `open_at`.
fn after_group(t: &[Token], open_at: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (k, token) in t.iter().enumerate().skip(open_at) {
        match token.tok {
            Tok::Punct(c) if c == open => depth += 1,
            Tok::Punct(c) if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn root_of(tok: &Tok) -> Option<Root> {
    match tok {
        Tok::Ident(w) if w == "crate" => Some(Root::Crate),
        Tok::Ident(w) if w == "super" => Some(Root::Super),
        Tok::Ident(w) if w == "self" => Some(Root::SelfMod),
        _ => None,
    }
}

/// Every `root::a::b` run outside `use` groups' braces too (types, calls, macros, `pub use`);
/// a glob (`super::*`) names the module itself.
fn inline_paths(t: &[Token]) -> Vec<PathRef> {
    let mut refs = Vec::new();
    let mut i = 0;
    while i < t.len() {
        let Some(root) = root_of(&t[i].tok) else {
            i += 1;
            continue;
        };
        if t.get(i + 1).map(|x| &x.tok) != Some(&Tok::PathSep) {
            i += 1;
            continue;
        }
        let mut names = Vec::new();
        let mut k = i + 1;
        let mut glob = false;
        while t.get(k).map(|x| &x.tok) == Some(&Tok::PathSep) {
            match t.get(k + 1).map(|x| &x.tok) {
                Some(Tok::Ident(n)) => {
                    names.push(n.clone());
                    k += 2;
                }
                Some(Tok::Punct('*')) => {
                    glob = true;
                    k += 2;
                    break;
                }
                _ => break,
            }
        }
        if !names.is_empty() || glob {
            refs.push(PathRef {
                root,
                names,
                line: t[i].line,
            });
        }
        i = k.max(i + 1);
    }
    refs
}

/// The leaves of every `use` tree that starts at a root: `use crate::a::{b, c::{d, self}}`
/// names `crate::a::b`, `crate::a::c::d` and `crate::a::c`.
fn use_tree_leaves(t: &[Token]) -> Vec<PathRef> {
    let mut refs = Vec::new();
    for (i, token) in t.iter().enumerate() {
        if token.tok == Tok::Ident("use".into()) {
            let mut k = i + 1;
            if t.get(k).map(|x| &x.tok) == Some(&Tok::PathSep) {
                k += 1;
            }
            let mut leaves = Vec::new();
            use_tree(t, k, Vec::new(), &mut leaves);
            for (segments, line) in leaves {
                let mut it = segments.into_iter();
                if let Some(root) = it
                    .next()
                    .as_deref()
                    .and_then(|s| root_of(&Tok::Ident(s.into())))
                {
                    refs.push(PathRef {
                        root,
                        names: it.collect(),
                        line,
                    });
                }
            }
        }
    }
    refs
}

/// Parses one use tree at `k` under `prefix`, pushing its leaves; returns the index after it.
fn use_tree(
    t: &[Token],
    mut k: usize,
    mut prefix: Vec<String>,
    leaves: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let line = t.get(k).map_or(0, |x| x.line);
    loop {
        match t.get(k).map(|x| &x.tok) {
            Some(Tok::Ident(name)) if name == "self" && !prefix.is_empty() => {
                // `a::{self}`: the prefix itself.
                leaves.push((prefix, line));
                return skip_rename(t, k + 1);
            }
            Some(Tok::Ident(name)) => {
                prefix.push(name.clone());
                if t.get(k + 1).map(|x| &x.tok) == Some(&Tok::PathSep) {
                    k += 2;
                } else {
                    leaves.push((prefix, line));
                    return skip_rename(t, k + 1);
                }
            }
            Some(Tok::Punct('*')) => {
                if !prefix.is_empty() {
                    leaves.push((prefix, line));
                }
                return k + 1;
            }
            Some(Tok::Punct('{')) => {
                k += 1;
                loop {
                    match t.get(k).map(|x| &x.tok) {
                        None => return k,
                        Some(Tok::Punct('}')) => return k + 1,
                        Some(Tok::Punct(',')) => k += 1,
                        Some(_) => {
                            let next = use_tree(t, k, prefix.clone(), leaves);
                            k = next.max(k + 1);
                        }
                    }
                }
            }
            _ => return k,
        }
    }
}

/// Skips `as name`.
fn skip_rename(t: &[Token], k: usize) -> usize {
    if t.get(k).map(|x| &x.tok) == Some(&Tok::Ident("as".into())) {
        k + 2
    } else {
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        let mut v: Vec<String> = path_refs(src).iter().map(PathRef::text).collect();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn finds_use_lines_groups_and_inline_paths() {
        let src = "use crate::a::{b, c::{d, self}, e as f};\n\
                   pub use self::g::H;\n\
                   fn x() { super::super::y::z(); let _ = crate::k::L; }\n\
                   use super::*;\n";
        assert_eq!(
            texts(src),
            [
                "crate::a",
                "crate::a::b",
                "crate::a::c",
                "crate::a::c::d",
                "crate::a::e",
                "crate::k::L",
                "self::g::H",
                "super",
                "super::super::y::z",
            ]
        );
        let refs = path_refs(src);
        let z = refs
            .iter()
            .find(|r| r.names.last().is_some_and(|n| n == "z"));
        assert_eq!(z.map(|r| (r.line, r.names.len())), Some((3, 3)));
    }

    #[test]
    fn ignores_comments_literals_and_other_roots() {
        let src = r##"
            // use crate::commented;
            /* crate::block /* nested crate::inner */ still crate::comment */
            //! crate::doc
            const S: &str = "crate::in_string // not a comment";
            const R: &str = r#"crate::raw "quoted""#;
            const B: &[u8] = b"crate::bytes";
            const C: char = '{';
            const Q: char = '"';
            const L: &str = "a continued \
                             string \" crate::still_in_it";
            fn f<'a>(x: &'a str) -> Self { Self::new(my_crate::x, crate::real) }
        "##;
        assert_eq!(texts(src), ["crate::real"]);
        let real = path_refs(src);
        assert_eq!(
            real[0].line, 12,
            "lines are counted through continued strings"
        );
    }

    #[test]
    fn drops_the_files_own_test_module_only() {
        let src = "fn a() { crate::kept(); }\n\
                   #[cfg(test)]\n#[allow(unused)]\nmod tests {\n use super::*;\n fn t() { let c = '}'; crate::gone(); }\n}\n\
                   #[cfg(test)]\nfn helper() { crate::helper_kept(); }\n\
                   fn b() { crate::after(); }\n";
        assert_eq!(
            texts(src),
            ["crate::after", "crate::helper_kept", "crate::kept"]
        );
    }
}
