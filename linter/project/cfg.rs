//! `cfg` predicates, and their value for one package built for the host.
//!
//! A predicate is kept as plain data ([`Cfg`]: serialisable, no syntax tree) so per-file facts
//! can carry it and the cross-file pass can decide it once it knows the package's features.
//! Evaluation is three-valued: `Some(true)`, `Some(false)`, or `None` when the answer depends on
//! something stall does not know (features the fallback could not resolve, the build profile,
//! a `cfg` a build script may set).

use std::collections::BTreeSet;

use quote::ToTokens;
use serde::{Deserialize, Serialize};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitBool, LitStr, Token};

/// A `cfg` predicate: what is inside `#[cfg(...)]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Cfg {
    /// `unix`, `test`, `debug_assertions`, a custom `--cfg` name.
    Name(String),
    /// `feature = "std"`, `target_os = "linux"`.
    KeyValue(String, String),
    Any(Vec<Cfg>),
    All(Vec<Cfg>),
    Not(Box<Cfg>),
    /// `cfg(true)` / `cfg(false)`.
    Bool(bool),
    /// Syntax this module does not understand: always unknown.
    Unparsed,
}

/// What a predicate is evaluated against: one package, built for the host, not as a test.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CfgEnv<'a> {
    /// The features cargo enabled for the package; `None` when they are unknown.
    pub features: Option<&'a BTreeSet<String>>,
    /// Whether the package has a build script, which may set any `cfg` it likes.
    pub build_script: bool,
}

/// Do `attrs` compile their item out here (a `#[cfg]` that is false)? Test code is not compiled
/// out: the test policy decides about it.
pub(crate) fn compiled_out(attrs: &[syn::Attribute], env: &CfgEnv) -> bool {
    attrs.iter().filter_map(Cfg::from_attr).any(|c| c.compiles_out(env))
}

/// The `#[cfg(..)]` attributes that leave their item's build undecided here (a feature or a
/// cfg the run does not know), as written; `None` when all are decided. One about test builds
/// is left to the test policy.
pub(crate) fn undecided(attrs: &[syn::Attribute], env: &CfgEnv) -> Option<String> {
    let open: Vec<String> = attrs
        .iter()
        .filter(|a| Cfg::from_attr(a).is_some_and(|c| c.eval(env).is_none() && !c.mentions_test()))
        .map(|a| a.meta.to_token_stream().to_string())
        .collect();
    (!open.is_empty()).then(|| open.join(" "))
}

impl Cfg {
    /// The predicate of a `#[cfg(..)]` attribute; `None` for any other attribute.
    pub(crate) fn from_attr(attr: &syn::Attribute) -> Option<Cfg> {
        if !attr.path().is_ident("cfg") {
            return None;
        }
        Some(match &attr.meta {
            syn::Meta::List(list) => syn::parse2(list.tokens.clone()).unwrap_or(Cfg::Unparsed),
            _ => Cfg::Unparsed,
        })
    }

    /// Parses `unix`, `cfg(unix)` or `all(feature = "a", not(windows))`; unknown syntax gives
    /// [`Cfg::Unparsed`]. Also reads the keys of `[target.'cfg(..)'.dependencies]`.
    pub(crate) fn parse(text: &str) -> Cfg {
        let text = text.trim();
        let inner = text.strip_prefix("cfg(").and_then(|t| t.strip_suffix(')')).unwrap_or(text);
        syn::parse_str(inner).unwrap_or(Cfg::Unparsed)
    }

    /// Whether the predicate is about test builds (`cfg(test)`, `cfg(not(test))`, ..).
    /// Is this cfg false here, so that what it is on is not compiled? (One that mentions
    /// `test` is left to the test policy.)
    pub(crate) fn compiles_out(&self, env: &CfgEnv) -> bool {
        self.eval(env) == Some(false) && !self.mentions_test()
    }

    pub(crate) fn mentions_test(&self) -> bool {
        match self {
            Cfg::Name(n) => n == "test" || n == "doctest",
            Cfg::Not(c) => c.mentions_test(),
            Cfg::Any(cs) | Cfg::All(cs) => cs.iter().any(Cfg::mentions_test),
            _ => false,
        }
    }

    /// The predicate's value for the package `env` describes, built for the host.
    pub(crate) fn eval(&self, env: &CfgEnv) -> Option<bool> {
        match self {
            Cfg::Bool(b) => Some(*b),
            Cfg::Unparsed => None,
            Cfg::Not(c) => c.eval(env).map(|b| !b),
            // Any: true if one is true; else unknown if one is unknown; else false.
            Cfg::Any(cs) => cs
                .iter()
                .map(|c| c.eval(env))
                .try_fold(false, |seen_unknown, v| match v {
                    Some(true) => Err(()),
                    Some(false) => Ok(seen_unknown),
                    None => Ok(true),
                })
                .map_or(Some(true), |unknown| if unknown { None } else { Some(false) }),
            // All: false if one is false; else unknown if one is unknown; else true.
            Cfg::All(cs) => cs
                .iter()
                .map(|c| c.eval(env))
                .try_fold(false, |seen_unknown, v| match v {
                    Some(false) => Err(()),
                    Some(true) => Ok(seen_unknown),
                    None => Ok(true),
                })
                .map_or(Some(false), |unknown| if unknown { None } else { Some(true) }),
            Cfg::Name(name) => eval_name(name, env),
            Cfg::KeyValue(key, value) => eval_key_value(key, value, env),
        }
    }
}

fn eval_name(name: &str, env: &CfgEnv) -> Option<bool> {
    match name {
        "unix" | "windows" => Some(host_families().contains(&name)),
        // Dependencies are never built as tests; stall checks the code that ships.
        "test" | "doctest" | "doc" | "docsrs" | "miri" | "clippy" | "rustfmt" | "rust_analyzer" => {
            Some(false)
        }
        "proc_macro" => Some(false),
        // Depend on the build profile.
        "debug_assertions" | "overflow_checks" | "ub_checks" => None,
        "feature" => Some(false),
        // A custom name is unset in a plain build, unless a build script sets it.
        _ if env.build_script => None,
        _ => Some(false),
    }
}

fn eval_key_value(key: &str, value: &str, env: &CfgEnv) -> Option<bool> {
    match key {
        "feature" => env.features.map(|f| f.contains(value)),
        "target_os" => Some(value == std::env::consts::OS),
        "target_arch" => Some(value == std::env::consts::ARCH),
        "target_family" => Some(host_families().contains(&value)),
        "target_pointer_width" => Some(value == (usize::BITS).to_string()),
        "target_endian" => Some(value == if cfg!(target_endian = "little") { "little" } else { "big" }),
        "target_env" => host_env().map(|env| value == env),
        "target_vendor" => host_vendor().map(|vendor| value == vendor),
        "target_has_atomic" => host_atomics(value),
        // Depend on the profile, the target CPU or flags stall does not see.
        "target_feature"
        | "target_abi"
        | "panic"
        | "relocation_model"
        | "sanitize"
        | "target_thread_local"
        | "fmt_debug" => None,
        _ if env.build_script => None,
        _ => Some(false),
    }
}

fn host_families() -> Vec<&'static str> {
    let mut out = Vec::new();
    if cfg!(unix) {
        out.push("unix");
    }
    if cfg!(windows) {
        out.push("windows");
    }
    if cfg!(target_family = "wasm") {
        out.push("wasm");
    }
    out
}

fn host_env() -> Option<&'static str> {
    if cfg!(target_env = "gnu") {
        Some("gnu")
    } else if cfg!(target_env = "musl") {
        Some("musl")
    } else if cfg!(target_env = "msvc") {
        Some("msvc")
    } else if cfg!(target_env = "") {
        Some("")
    } else {
        None
    }
}

fn host_vendor() -> Option<&'static str> {
    if cfg!(target_vendor = "unknown") {
        Some("unknown")
    } else if cfg!(target_vendor = "apple") {
        Some("apple")
    } else if cfg!(target_vendor = "pc") {
        Some("pc")
    } else {
        None
    }
}

fn host_atomics(width: &str) -> Option<bool> {
    match width {
        "8" => Some(cfg!(target_has_atomic = "8")),
        "16" => Some(cfg!(target_has_atomic = "16")),
        "32" => Some(cfg!(target_has_atomic = "32")),
        "64" => Some(cfg!(target_has_atomic = "64")),
        "ptr" => Some(cfg!(target_has_atomic = "ptr")),
        _ => None,
    }
}

impl Parse for Cfg {
    fn parse(input: ParseStream) -> syn::Result<Cfg> {
        if input.peek(LitBool) {
            return Ok(Cfg::Bool(input.parse::<LitBool>()?.value));
        }
        let name = syn::Ident::parse_any(input)?.unraw().to_string();
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            return Ok(Cfg::KeyValue(name, input.parse::<LitStr>()?.value()));
        }
        if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let mut args: Vec<Cfg> =
                Punctuated::<Cfg, Token![,]>::parse_terminated(&content)?.into_iter().collect();
            return Ok(match name.as_str() {
                "any" => Cfg::Any(args),
                "all" => Cfg::All(args),
                "not" if args.len() == 1 => Cfg::Not(Box::new(args.remove(0))),
                _ => Cfg::Unparsed,
            });
        }
        Ok(Cfg::Name(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn features(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn eval(text: &str, env: &CfgEnv) -> Option<bool> {
        let cfg = Cfg::parse(text);
        assert_ne!(cfg, Cfg::Unparsed, "{text} should parse");
        cfg.eval(env)
    }

    #[test]
    fn features_are_the_resolved_ones() {
        let on = features(&["std", "fs"]);
        let env = CfgEnv { features: Some(&on), build_script: false };
        assert_eq!(eval(r#"feature = "fs""#, &env), Some(true));
        assert_eq!(eval(r#"feature = "net""#, &env), Some(false));
        assert_eq!(eval(r#"cfg(not(feature = "net"))"#, &env), Some(true));
        assert_eq!(eval(r#"all(feature = "std", feature = "fs")"#, &env), Some(true));
        assert_eq!(eval(r#"any(feature = "net", feature = "tls")"#, &env), Some(false));
    }

    #[test]
    fn unknown_features_are_unknown_unless_the_rest_decides() {
        let env = CfgEnv::default();
        assert_eq!(eval(r#"feature = "fs""#, &env), None);
        assert_eq!(eval(r#"not(feature = "fs")"#, &env), None);
        assert_eq!(eval(r#"all(feature = "fs", test)"#, &env), Some(false), "test is false anyway");
        assert_eq!(eval(r#"any(feature = "fs", not(test))"#, &env), Some(true));
        assert_eq!(eval(r#"any(feature = "fs", test)"#, &env), None);
        assert_eq!(eval(r#"all(feature = "fs", not(test))"#, &env), None);
    }

    #[test]
    fn the_host_decides_target_cfgs() {
        let env = CfgEnv::default();
        assert_eq!(eval("unix", &env), Some(cfg!(unix)));
        assert_eq!(eval("windows", &env), Some(cfg!(windows)));
        assert_eq!(eval("not(any(unix, windows))", &env), Some(!cfg!(unix) && !cfg!(windows)));
        assert_eq!(eval(&format!(r#"target_os = "{}""#, std::env::consts::OS), &env), Some(true));
        assert_eq!(eval(r#"target_os = "haiku-but-not-really""#, &env), Some(false));
        assert_eq!(eval(&format!(r#"target_arch = "{}""#, std::env::consts::ARCH), &env), Some(true));
        assert_eq!(eval(r#"target_pointer_width = "64""#, &env), Some(cfg!(target_pointer_width = "64")));
        assert_eq!(eval(r#"target_family = "unix""#, &env), Some(cfg!(unix)));
        assert_eq!(eval(r#"target_has_atomic = "ptr""#, &env), Some(cfg!(target_has_atomic = "ptr")));
        assert_eq!(eval(r#"target_feature = "sse2""#, &env), None);
        assert_eq!(eval("debug_assertions", &env), None);
    }

    #[test]
    fn tests_and_custom_cfgs_are_off_unless_a_build_script_may_set_them() {
        let plain = CfgEnv::default();
        let built = CfgEnv { features: None, build_script: true };
        assert_eq!(eval("test", &plain), Some(false));
        assert_eq!(eval("test", &built), Some(false));
        assert_eq!(eval("docsrs", &plain), Some(false));
        assert_eq!(eval("tokio_unstable", &plain), Some(false));
        assert_eq!(eval("not(loom)", &plain), Some(true));
        assert_eq!(eval("has_std", &built), None);
        assert_eq!(eval(r#"libc_version = "2""#, &built), None);
        assert_eq!(eval(r#"libc_version = "2""#, &plain), Some(false));
    }

    #[test]
    fn edge_forms() {
        let env = CfgEnv::default();
        assert_eq!(eval("all()", &env), Some(true));
        assert_eq!(eval("any()", &env), Some(false));
        assert_eq!(eval("true", &env), Some(true));
        assert_eq!(eval("not(false)", &env), Some(true));
        assert_eq!(eval("any(unix, windows,)", &env), Some(cfg!(unix) || cfg!(windows)));
        assert_eq!(Cfg::parse("not(unix, windows)"), Cfg::Unparsed);
        assert_eq!(Cfg::parse("accessible(::std::fs)"), Cfg::Unparsed);
        assert_eq!(Cfg::parse("feature = 1"), Cfg::Unparsed);
        assert_eq!(Cfg::Unparsed.eval(&env), None);
        assert_eq!(Cfg::parse("r#unix"), Cfg::Name("unix".into()));
    }

    #[test]
    fn reads_cfg_attributes() {
        let item: syn::ItemFn = syn::parse_quote! {
            #[inline]
            #[cfg(all(feature = "blocking", not(target_os = "wasi")))]
            fn read() {}
        };
        assert_eq!(Cfg::from_attr(&item.attrs[0]), None);
        let cfg = Cfg::from_attr(&item.attrs[1]).unwrap();
        assert_eq!(
            cfg,
            Cfg::All(vec![
                Cfg::KeyValue("feature".into(), "blocking".into()),
                Cfg::Not(Box::new(Cfg::KeyValue("target_os".into(), "wasi".into()))),
            ])
        );
        let on = features(&["blocking"]);
        assert_eq!(cfg.eval(&CfgEnv { features: Some(&on), build_script: false }), Some(true));
        let off = features(&[]);
        assert_eq!(cfg.eval(&CfgEnv { features: Some(&off), build_script: false }), Some(false));
        let bare: syn::Attribute = syn::parse_quote!(#[cfg]);
        assert_eq!(Cfg::from_attr(&bare), Some(Cfg::Unparsed));
    }
}
