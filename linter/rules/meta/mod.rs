//! Findings about the run itself: files that could not be parsed, suppressions that matched
//! nothing. The engine makes them; the rule files hold their docs and wording.

include!(concat!(env!("OUT_DIR"), "/rules_meta.rs"));
