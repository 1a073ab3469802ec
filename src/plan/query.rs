//! The query language: text for the same expressions the typed API builds, e.g.
//! `nobs_total >= 50 and band in ('g', 'r')` (pandas' `DataFrame.query` style, which TAPE
//! users know). Errors give the position of the mistake.
//!
//! ```text
//! or    := and ("or" | "|") and ...
//! and   := not ("and" | "&") not ...
//! not   := ("not" | "~") not | cmp
//! cmp   := sum [op sum | ["not"] "in" "(" literal, ... ")" | "is" ["not"] ("null" | "nan")]
//! sum   := term ("+" | "-") term ...        op: == != < <= > >=
//! term  := unary ("*" | "/") unary ...
//! unary := "-" unary | number | nan | inf | 'string' | "string" | true | false | name
//!        | `any name` | "(" or ")" | function "(" or, ... ")"
//! function := count_valid | coalesce | log10 | ln | exp | sqrt | abs
//! ```
//! Keywords are case-insensitive; a column named like a keyword goes in backticks.

use super::expr::{ArithOp, CmpOp, Expr, Func, Literal};
use crate::error::{Error, Result};

const KEYWORDS: [&str; 10] = [
    "and", "or", "not", "in", "is", "null", "nan", "inf", "true", "false",
];

/// Whether `word` is a keyword of the query language (any case).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(word))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(Literal),
    Str(String),
    Ident(String),
    /// A backticked name: never a keyword.
    Quoted(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Number(l) => format!("number {l}"),
            Token::Str(s) => format!("string '{s}'"),
            Token::Ident(s) => format!("'{s}'"),
            Token::Quoted(s) => format!("`{s}`"),
            Token::Op(o) => format!("'{o}'"),
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::Comma => "','".into(),
            Token::End => "the end of the query".into(),
        }
    }
}

/// Parses a query into an expression (not yet checked against a schema).
///
/// ```
/// use lsstseries::plan::{col, parse_query};
/// let e = parse_query("nobs_total >= 50 and band in ('g', 'r')").unwrap();
/// assert_eq!(e, col("nobs_total").gt_eq(50).and(col("band").is_in(["g", "r"])));
/// let err = parse_query("flux > and band == 'g'").unwrap_err();
/// assert!(err.to_string().contains("position 7"), "{err}");
/// ```
pub fn parse_query(query: &str) -> Result<Expr> {
    let tokens = tokenize(query)?;
    let mut p = Parser {
        query,
        tokens,
        at: 0,
    };
    let e = p.or()?;
    match p.peek() {
        Token::End => Ok(e),
        t => Err(p.error(format!(
            "unexpected {} after a complete expression",
            t.describe()
        ))),
    }
}

fn syntax(query: &str, position: usize, message: impl Into<String>) -> Error {
    Error::QuerySyntax {
        query: query.to_string(),
        position,
        message: message.into(),
    }
}

/// Tokens with their character positions.
fn tokenize(query: &str) -> Result<Vec<(Token, usize)>> {
    let chars: Vec<char> = query.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let token = match c {
            '(' => {
                i += 1;
                Token::LParen
            }
            ')' => {
                i += 1;
                Token::RParen
            }
            ',' => {
                i += 1;
                Token::Comma
            }
            '=' | '!' | '<' | '>' => {
                let op = match two.as_str() {
                    "==" => "==",
                    "!=" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    _ if c == '<' => "<",
                    _ if c == '>' => ">",
                    _ if c == '=' => {
                        return Err(syntax(query, start, "use '==' to compare, not '='"))
                    }
                    _ => return Err(syntax(query, start, "'!' must be followed by '='")),
                };
                i += op.len();
                Token::Op(op)
            }
            '+' | '-' | '*' | '/' | '&' | '|' | '~' => {
                i += 1;
                Token::Op(match c {
                    '+' => "+",
                    '-' => "-",
                    '*' => "*",
                    '/' => "/",
                    '&' => "and",
                    '|' => "or",
                    _ => "not",
                })
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(query, start, "string is not closed")),
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some(&e) => s.push(e),
                                None => return Err(syntax(query, i, "'\\' at the end")),
                            }
                            i += 2;
                        }
                        Some(&q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                Token::Str(s)
            }
            '`' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(syntax(query, start, "backticked name is not closed")),
                        Some('`') if chars.get(i + 1) == Some(&'`') => {
                            s.push('`');
                            i += 2;
                        }
                        Some('`') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            s.push(other);
                            i += 1;
                        }
                    }
                }
                if s.is_empty() {
                    return Err(syntax(query, start, "empty column name"));
                }
                Token::Quoted(s)
            }
            c if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let mut j = i;
                let mut float = false;
                while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                    float |= chars[j] == '.';
                    j += 1;
                }
                if j < chars.len() && (chars[j] == 'e' || chars[j] == 'E') {
                    let mut k = j + 1;
                    if k < chars.len() && (chars[k] == '+' || chars[k] == '-') {
                        k += 1;
                    }
                    if k < chars.len() && chars[k].is_ascii_digit() {
                        while k < chars.len() && chars[k].is_ascii_digit() {
                            k += 1;
                        }
                        float = true;
                        j = k;
                    }
                }
                let text: String = chars[i..j].iter().collect();
                if chars
                    .get(j)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    return Err(syntax(
                        query,
                        j,
                        format!("unexpected '{}' after number {text}", chars[j]),
                    ));
                }
                i = j;
                let literal = if float {
                    text.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite())
                        .map(Literal::Float)
                } else {
                    text.parse::<i64>().ok().map(Literal::Int)
                };
                Token::Number(literal.ok_or_else(|| {
                    syntax(
                        query,
                        start,
                        format!("number {text} is malformed or out of range"),
                    )
                })?)
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                i = j;
                Token::Ident(word)
            }
            other => {
                return Err(syntax(
                    query,
                    start,
                    format!("unexpected character '{other}'"),
                ))
            }
        };
        out.push((token, start));
    }
    out.push((Token::End, chars.len()));
    Ok(out)
}

struct Parser<'q> {
    query: &'q str,
    tokens: Vec<(Token, usize)>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)].0
    }

    fn position(&self) -> usize {
        self.tokens[self.at.min(self.tokens.len() - 1)].1
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn error(&self, message: impl Into<String>) -> Error {
        syntax(self.query, self.position(), message)
    }

    /// Whether the next token is keyword `word` (or its symbol); consumes it if so.
    fn keyword(&mut self, word: &str) -> bool {
        let hit = match self.peek() {
            Token::Ident(w) => w.eq_ignore_ascii_case(word),
            Token::Op(o) => *o == word,
            _ => false,
        };
        if hit {
            self.next();
        }
        hit
    }

    fn or(&mut self) -> Result<Expr> {
        let mut e = self.and()?;
        while self.keyword("or") {
            e = e.or(self.and()?);
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr> {
        let mut e = self.not()?;
        while self.keyword("and") {
            e = e.and(self.not()?);
        }
        Ok(e)
    }

    fn not(&mut self) -> Result<Expr> {
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr> {
        let left = self.sum()?;
        let op = match self.peek() {
            Token::Op("==") => Some(CmpOp::Eq),
            Token::Op("!=") => Some(CmpOp::NotEq),
            Token::Op("<") => Some(CmpOp::Lt),
            Token::Op("<=") => Some(CmpOp::LtEq),
            Token::Op(">") => Some(CmpOp::Gt),
            Token::Op(">=") => Some(CmpOp::GtEq),
            _ => None,
        };
        if let Some(op) = op {
            self.next();
            let right = self.sum()?;
            return Ok(Expr::Compare(Box::new(left), op, Box::new(right)));
        }
        // `x not in (...)`: look ahead, since `not` alone would start a new term.
        let negated_in = matches!(self.peek(), Token::Ident(w) if w.eq_ignore_ascii_case("not"))
            && matches!(self.tokens.get(self.at + 1), Some((Token::Ident(w), _)) if w.eq_ignore_ascii_case("in"));
        if negated_in {
            self.next();
        }
        if self.keyword("in") {
            let list = self.list()?;
            let e = Expr::IsIn(Box::new(left), list);
            return Ok(if negated_in {
                Expr::Not(Box::new(e))
            } else {
                e
            });
        }
        if self.keyword("is") {
            let negated = self.keyword("not");
            let e = if self.keyword("null") {
                Expr::IsNull(Box::new(left))
            } else if self.keyword("nan") {
                Expr::IsNan(Box::new(left))
            } else {
                return Err(self.error(format!(
                    "expected 'null' or 'nan' after 'is', found {}",
                    self.peek().describe()
                )));
            };
            return Ok(if negated { Expr::Not(Box::new(e)) } else { e });
        }
        Ok(left)
    }

    /// Consumes `token` or fails with `what`, pointing at what is there instead.
    fn expect(&mut self, token: Token, what: &str) -> Result<()> {
        if *self.peek() != token {
            return Err(self.error(format!("expected {what}, found {}", self.peek().describe())));
        }
        self.next();
        Ok(())
    }

    fn list(&mut self) -> Result<Vec<Literal>> {
        self.expect(Token::LParen, "'(' after 'in'")?;
        let mut values = Vec::new();
        loop {
            let negative = self.keyword("-");
            let position = self.position();
            let value = match (self.next(), negative) {
                (Token::Number(Literal::Int(v)), true) => Literal::Int(-v),
                (Token::Number(Literal::Float(v)), true) => Literal::Float(-v),
                (Token::Number(l), false) => l,
                (Token::Str(s), false) => Literal::Str(s),
                (Token::Ident(w), n) if w.eq_ignore_ascii_case("nan") => {
                    Literal::Float(if n { -f64::NAN } else { f64::NAN })
                }
                (Token::Ident(w), n) if w.eq_ignore_ascii_case("inf") => {
                    Literal::Float(if n { f64::NEG_INFINITY } else { f64::INFINITY })
                }
                (Token::Ident(w), false) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
                (Token::Ident(w), false) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
                (Token::RParen, false) if values.is_empty() => return Ok(values),
                (t, _) => {
                    return Err(syntax(
                        self.query,
                        position,
                        format!("expected a literal in the list, found {}", t.describe()),
                    ))
                }
            };
            values.push(value);
            if *self.peek() == Token::Comma {
                self.next();
                continue;
            }
            self.expect(Token::RParen, "',' or ')' in the list")?;
            return Ok(values);
        }
    }

    fn sum(&mut self) -> Result<Expr> {
        let mut e = self.term()?;
        loop {
            let op = match self.peek() {
                Token::Op("+") => ArithOp::Add,
                Token::Op("-") => ArithOp::Sub,
                _ => return Ok(e),
            };
            self.next();
            e = Expr::Arith(Box::new(e), op, Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr> {
        let mut e = self.unary()?;
        loop {
            let op = match self.peek() {
                Token::Op("*") => ArithOp::Mul,
                Token::Op("/") => ArithOp::Div,
                _ => return Ok(e),
            };
            self.next();
            e = Expr::Arith(Box::new(e), op, Box::new(self.unary()?));
        }
    }

    fn unary(&mut self) -> Result<Expr> {
        if self.keyword("-") {
            // A minus directly before a number is a negative literal, as the printer writes
            // it; before anything else it negates.
            return Ok(match self.peek().clone() {
                Token::Number(Literal::Int(v)) => {
                    self.next();
                    Expr::Literal(Literal::Int(v.wrapping_neg()))
                }
                Token::Number(Literal::Float(v)) => {
                    self.next();
                    Expr::Literal(Literal::Float(-v))
                }
                _ => Expr::Neg(Box::new(self.unary()?)),
            });
        }
        let position = self.position();
        match self.next() {
            Token::Number(l) => Ok(Expr::Literal(l)),
            Token::Str(s) => Ok(Expr::Literal(Literal::Str(s))),
            Token::Quoted(name) => Ok(Expr::Column(name)),
            Token::Ident(w) if w.eq_ignore_ascii_case("true") => Ok(Expr::Literal(Literal::Bool(true))),
            Token::Ident(w) if w.eq_ignore_ascii_case("false") => Ok(Expr::Literal(Literal::Bool(false))),
            Token::Ident(w) if w.eq_ignore_ascii_case("nan") => {
                Ok(Expr::Literal(Literal::Float(f64::NAN)))
            }
            Token::Ident(w) if w.eq_ignore_ascii_case("inf") => {
                Ok(Expr::Literal(Literal::Float(f64::INFINITY)))
            }
            Token::Ident(w) if is_keyword(&w) => Err(syntax(
                self.query,
                position,
                format!("expected a value, found keyword '{w}' (quote a column of that name in backticks)"),
            )),
            // A function call: `log10(flux)`, `count_valid(a, b, ...)`.
            Token::Ident(w) if *self.peek() == Token::LParen => {
                let Some(func) = Func::from_name(&w) else {
                    let known: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
                    return Err(syntax(
                        self.query,
                        position,
                        format!("unknown function '{w}' (known: {})", known.join(", ")),
                    ));
                };
                self.next();
                let mut items = vec![self.or()?];
                while *self.peek() == Token::Comma {
                    self.next();
                    items.push(self.or()?);
                }
                self.expect(Token::RParen, "',' or ')' after a function argument")?;
                Ok(Expr::Call(func, items))
            }
            Token::Ident(w) => Ok(Expr::Column(w)),
            Token::LParen => {
                let e = self.or()?;
                self.expect(Token::RParen, "')'")?;
                Ok(e)
            }
            t => Err(syntax(self.query, position, format!("expected a value, found {}", t.describe()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::expr::{col, lit};

    fn position(q: &str) -> usize {
        match parse_query(q).unwrap_err() {
            Error::QuerySyntax { position, .. } => position,
            e => panic!("{e}"),
        }
    }

    #[test]
    fn precedence_and_forms() {
        let e = parse_query("a + b * 2 > 3 or not c == 'x' and d in (1, -2.5)").unwrap();
        let want = (col("a") + col("b") * 2)
            .gt(3)
            .or((!col("c").eq("x")).and(col("d").is_in([Literal::Int(1), Literal::Float(-2.5)])));
        assert_eq!(e, want);
        assert_eq!(parse_query("x is not null").unwrap(), !col("x").is_null());
        assert_eq!(parse_query("x IS NaN").unwrap(), col("x").is_nan());
        assert_eq!(
            parse_query("b not in ('g')").unwrap(),
            !col("b").is_in(["g"])
        );
        assert_eq!(
            parse_query("`and` & `a b`").unwrap(),
            col("and").and(col("a b"))
        );
        assert_eq!(parse_query("-(x)").unwrap(), -col("x"));
        assert_eq!(parse_query("1.5e3 < x").unwrap(), lit(1500.0).lt(col("x")));
        assert_eq!(parse_query("s == \"it's\"").unwrap(), col("s").eq("it's"));
    }

    #[test]
    fn errors_point_at_the_mistake() {
        assert_eq!(position("flux > and x"), 7);
        assert_eq!(position("flux = 3"), 5);
        assert_eq!(position("band == 'g"), 8);
        assert_eq!(position("(a > 1"), 6);
        assert_eq!(position("a > 1 b"), 6);
        assert_eq!(position("a in 1"), 5);
        assert_eq!(position("a is maybe"), 5);
        assert_eq!(position("a > 99999999999999999999"), 4);
        assert_eq!(position("a > 3x"), 5);
        assert_eq!(position("a $ b"), 2);
        assert_eq!(position(""), 0);
        let text = parse_query("flux > and x").unwrap_err().to_string();
        assert!(
            text.contains("flux > and x") && text.contains("       ^"),
            "{text}"
        );
    }

    #[test]
    fn printing_reads_back() {
        for q in [
            "nobs_total >= 50 and band in ('g', 'r')",
            "a - (b - c) > 2 * (x + 1) / 3",
            "not (a > 1 or b < 2) and c is null",
            "-2.5 * flux + 31.4 < 20",
            "`my col` == 'o\\'k'",
            "(a > 1) == (b > 2)",
        ] {
            let e = parse_query(q).unwrap();
            let printed = e.to_string();
            assert_eq!(parse_query(&printed).unwrap().to_string(), printed, "{q}");
        }
    }
}
