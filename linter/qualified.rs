//! Qualified names as strings (`pkg::module::Type::f`, the keys of functions and types):
//! splitting at `::`. These run for every call, key and path of a run; `str`'s methods with a
//! `"::"` pattern set up a substring search on each call, which cost a tenth of a run's time.

/// `::`-splitting of a qualified name. A lone `:` never occurs in one and is not a separator.
pub(crate) trait Qualified {
    /// The byte offset of the first `::`.
    fn find_sep(&self) -> Option<usize>;
    /// The byte offset of the last `::`.
    fn rfind_sep(&self) -> Option<usize>;
    /// After the last `::` (all of it without one): `f` of `a::b::f`.
    fn last_segment(&self) -> &str;
    /// Before the first `::` (all of it without one): `a` of `a::b::f`.
    fn first_segment(&self) -> &str;
    /// Around the first `::`.
    fn split_first_sep(&self) -> Option<(&str, &str)>;
    /// Around the last `::`.
    fn split_last_sep(&self) -> Option<(&str, &str)>;
    /// Has a `::`.
    fn has_sep(&self) -> bool {
        self.find_sep().is_some()
    }
    /// The offsets of every `::`, left to right.
    fn sep_offsets(&self) -> impl Iterator<Item = usize> + '_;
}

impl Qualified for str {
    fn find_sep(&self) -> Option<usize> {
        let b = self.as_bytes();
        let mut from = 0;
        while let Some(i) = memchr::memchr(b':', &b[from..]).map(|i| from + i) {
            if b.get(i + 1) == Some(&b':') {
                return Some(i);
            }
            from = i + 1;
        }
        None
    }

    fn rfind_sep(&self) -> Option<usize> {
        let b = self.as_bytes();
        let mut end = b.len();
        while let Some(i) = memchr::memrchr(b':', &b[..end]) {
            if i > 0 && b[i - 1] == b':' {
                return Some(i - 1);
            }
            end = i;
        }
        None
    }

    fn last_segment(&self) -> &str {
        self.rfind_sep().map_or(self, |i| &self[i + 2..])
    }

    fn first_segment(&self) -> &str {
        self.find_sep().map_or(self, |i| &self[..i])
    }

    fn split_first_sep(&self) -> Option<(&str, &str)> {
        self.find_sep().map(|i| (&self[..i], &self[i + 2..]))
    }

    fn split_last_sep(&self) -> Option<(&str, &str)> {
        self.rfind_sep().map(|i| (&self[..i], &self[i + 2..]))
    }

    fn sep_offsets(&self) -> impl Iterator<Item = usize> + '_ {
        let mut from = 0;
        std::iter::from_fn(move || {
            let i = self[from..].find_sep()? + from;
            from = i + 2;
            Some(i)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_as_str_does_at_double_colons() {
        for s in ["", "f", "a::b", "a::b::f", "::a", "a::", "crate::<store>::get", "a:b::c", "a::::b", ":::"]
        {
            assert_eq!(s.find_sep(), s.find("::"), "{s}");
            assert_eq!(s.rfind_sep(), s.rfind("::"), "{s}");
            assert_eq!(s.last_segment(), s.rsplit("::").next().unwrap(), "{s}");
            assert_eq!(s.first_segment(), s.split("::").next().unwrap(), "{s}");
            assert_eq!(s.split_first_sep(), s.split_once("::"), "{s}");
            assert_eq!(s.split_last_sep(), s.rsplit_once("::"), "{s}");
            assert_eq!(s.has_sep(), s.contains("::"), "{s}");
            let std: Vec<usize> = s.match_indices("::").map(|(i, _)| i).collect();
            assert_eq!(s.sep_offsets().collect::<Vec<_>>(), std, "{s}");
        }
    }
}
