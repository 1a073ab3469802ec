//! Bands stored as integer codes (Pan-STARRS' `filterID`: 1 = g, ..., 5 = y) and the map
//! that names them. Decoding turns a coded column into the canonical band column
//! (dictionary-encoded names), so everything after the scan sees names only.

use crate::error::{Error, Result};
use arrow::array::{ArrayRef, AsArray, DictionaryArray, Int32Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Int32Type, Int64Type};
use std::path::Path;
use std::sync::Arc;

/// Integer band codes and their names.
///
/// ```
/// use lsstseries::io::BandCodes;
/// let codes: BandCodes = "1=g,2=r".parse()?;
/// assert_eq!(codes.name(2), Some("r"));
/// assert_eq!(BandCodes::ps1().name(5), Some("y"));
/// # Ok::<(), lsstseries::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BandCodes(Vec<(i64, String)>);

impl BandCodes {
    /// A map from `(code, name)` pairs; codes and names must be distinct and names
    /// non-empty.
    pub fn new(pairs: impl IntoIterator<Item = (i64, String)>) -> Result<Self> {
        let mut pairs: Vec<(i64, String)> = pairs.into_iter().collect();
        pairs.sort();
        if pairs.is_empty() {
            return Err(Error::InvalidArgument("band codes: no code given".into()));
        }
        for w in pairs.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(Error::InvalidArgument(format!(
                    "band codes: code {} given twice",
                    w[0].0
                )));
            }
        }
        let mut names: Vec<&str> = pairs.iter().map(|p| p.1.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::InvalidArgument(format!(
                "band codes: name '{}' given twice",
                w[0]
            )));
        }
        if names.iter().any(|n| n.is_empty()) {
            return Err(Error::InvalidArgument("band codes: empty band name".into()));
        }
        Ok(BandCodes(pairs))
    }

    /// Pan-STARRS1 `filterID`: 1 = g, 2 = r, 3 = i, 4 = z, 5 = y.
    pub fn ps1() -> Self {
        BandCodes(
            ["g", "r", "i", "z", "y"]
                .iter()
                .enumerate()
                .map(|(i, b)| (i as i64 + 1, b.to_string()))
                .collect(),
        )
    }

    /// The name of `code`.
    pub fn name(&self, code: i64) -> Option<&str> {
        self.0
            .binary_search_by_key(&code, |p| p.0)
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// The pairs, by code.
    pub fn pairs(&self) -> &[(i64, String)] {
        &self.0
    }

    /// The canonical band column for a coded column `col` (any integer type) of `path`:
    /// dictionary keys index the map's names. A null stays null (the decoder rejects it);
    /// a code the map lacks is an error naming the file, column and code.
    pub(crate) fn decode(&self, col: &ArrayRef, path: &Path, column: &str) -> Result<ArrayRef> {
        let wide = cast(col, &DataType::Int64)
            .map_err(|e| Error::arrow(format!("band codes of '{column}'"), e))?;
        let codes = wide.as_primitive::<Int64Type>();
        let mut keys = Vec::with_capacity(codes.len());
        for (row, code) in codes.iter().enumerate() {
            keys.push(match code {
                None => None,
                Some(c) => match self.0.binary_search_by_key(&c, |p| p.0) {
                    Ok(i) => Some(i as i32),
                    Err(_) => {
                        return Err(Error::InvalidData(format!(
                            "{}: column '{column}' (band) holds code {c} at row {row}, which the \
                             band codes do not name (known: {self})",
                            path.display(),
                        )))
                    }
                },
            });
        }
        let values = StringArray::from_iter_values(self.0.iter().map(|p| p.1.as_str()));
        let dict = DictionaryArray::<Int32Type>::try_new(Int32Array::from(keys), Arc::new(values))
            .map_err(|e| Error::arrow("band dictionary", e))?;
        Ok(Arc::new(dict))
    }
}

impl std::fmt::Display for BandCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self.0.iter().map(|(c, n)| format!("{c}={n}")).collect();
        f.write_str(&text.join(","))
    }
}

impl std::str::FromStr for BandCodes {
    type Err = Error;
    /// `"1=g,2=r,3=i"`.
    fn from_str(s: &str) -> Result<Self> {
        let mut pairs = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (code, name) = item.split_once('=').ok_or_else(|| {
                Error::InvalidArgument(format!("band codes: '{item}' is not CODE=NAME"))
            })?;
            let code: i64 = code.trim().parse().map_err(|_| {
                Error::InvalidArgument(format!("band codes: '{code}' is not an integer code"))
            })?;
            pairs.push((code, name.trim().to_string()));
        }
        BandCodes::new(pairs)
    }
}

/// Whether `dt` can hold band codes.
pub(crate) fn is_code_type(dt: &DataType) -> bool {
    dt.is_integer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::UInt8Array;

    #[test]
    fn decodes_and_names_unknown_codes() {
        let codes = BandCodes::ps1();
        let col: ArrayRef = Arc::new(UInt8Array::from(vec![Some(1), Some(5), None, Some(2)]));
        let out = codes
            .decode(&col, Path::new("f.parquet"), "filterID")
            .unwrap();
        let dict = out.as_dictionary::<Int32Type>();
        let names = dict.values().as_string::<i32>();
        let got: Vec<Option<&str>> = dict
            .keys()
            .iter()
            .map(|k| k.map(|k| names.value(k as usize)))
            .collect();
        assert_eq!(got, [Some("g"), Some("y"), None, Some("r")]);
        let bad: ArrayRef = Arc::new(UInt8Array::from(vec![1, 9]));
        let err = codes
            .decode(&bad, Path::new("f.parquet"), "filterID")
            .unwrap_err();
        assert!(err.to_string().contains("code 9 at row 1"), "{err}");
        assert!("1=g,1=r".parse::<BandCodes>().is_err());
        assert!("1=g,2=g".parse::<BandCodes>().is_err());
        assert!("x=g".parse::<BandCodes>().is_err());
        assert_eq!(
            "2=r, 1=g".parse::<BandCodes>().unwrap().to_string(),
            "1=g,2=r"
        );
    }
}
