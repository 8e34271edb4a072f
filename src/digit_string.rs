//! Whole numbers written as text, `"10_000"`-style: the event's `digits` string and the limit
//! environment variables share this grammar. A leaf: it uses nothing of the crate.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitStringError {
    Empty,
    Negative,
    Fraction,
    NotANumber,
    TooLarge,
}

/// Parses `"10000"`, `"10_000"` or `" 10_000 "`: ASCII digits with single `_` separators
/// between them (as in Rust and Python literals), surrounding white space ignored, an optional
/// `+`, and `.0…` after a whole number. No recursion: any input is one pass.
pub fn parse_digit_string(text: &str) -> Result<u64, DigitStringError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DigitStringError::Empty);
    }
    if let Some(rest) = text.strip_prefix('-') {
        return Err(match parse_unsigned(rest) {
            Ok(_) | Err(DigitStringError::Fraction) | Err(DigitStringError::TooLarge) => {
                DigitStringError::Negative
            }
            Err(_) => DigitStringError::NotANumber,
        });
    }
    parse_unsigned(text.strip_prefix('+').unwrap_or(text))
}

/// A number without a sign: whole, or whole with a fraction.
fn parse_unsigned(body: &str) -> Result<u64, DigitStringError> {
    let Some((whole, fraction)) = body.split_once('.') else {
        return parse_whole(body);
    };
    // "10000.0" is a whole number written with a point; "10.5" is not.
    let whole = parse_whole(whole)?;
    if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        Err(DigitStringError::NotANumber)
    } else if fraction.bytes().all(|b| b == b'0') {
        Ok(whole)
    } else {
        Err(DigitStringError::Fraction)
    }
}

/// Digits with single `_` separators between them.
fn parse_whole(body: &str) -> Result<u64, DigitStringError> {
    let bytes = body.as_bytes();
    let separators_ok = !bytes.is_empty()
        && bytes[0] != b'_'
        && bytes[bytes.len() - 1] != b'_'
        && !body.contains("__");
    if !separators_ok || !bytes.iter().all(|b| b.is_ascii_digit() || *b == b'_') {
        return Err(DigitStringError::NotANumber);
    }
    let mut n: u64 = 0;
    for digit in bytes.iter().filter(|b| b.is_ascii_digit()) {
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(digit - b'0')))
            .ok_or(DigitStringError::TooLarge)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A million signs once overflowed the stack through recursion; any input is one pass now.
    #[test]
    fn pathological_strings_are_plain_errors() {
        assert_eq!(parse_digit_string("-"), Err(DigitStringError::NotANumber));
        assert_eq!(parse_digit_string("--5"), Err(DigitStringError::NotANumber));
        assert_eq!(parse_digit_string("+-5"), Err(DigitStringError::NotANumber));
        assert_eq!(parse_digit_string("-10.5"), Err(DigitStringError::Negative));
        assert_eq!(parse_digit_string(".5"), Err(DigitStringError::NotANumber));
        assert_eq!(parse_digit_string("5."), Err(DigitStringError::NotANumber));
        assert_eq!(parse_digit_string("1_000.000"), Ok(1000));
    }
}
