//! Panic sites in a firmware ELF: every call from our code into a function
//! that can only end in `core::panicking::*`.
//!
//! The ELF is disassembled with `llvm-objdump` (rustup's llvm-tools) into a
//! call graph. A function is *panicky* when it can reach
//! `core::panicking::*`; a *site* is a call from a function into a panicky
//! helper of `core` (or into a machine-outlined fragment that is one), i.e.
//! the place where a bounds check, unwrap or division check survived
//! optimisation. Sites are grouped by the crate of the calling function.
//!
//! The release firmware is what runs on a device, with LTO, so this sees
//! exactly the checks LLVM could not prove away.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

/// The crates whose panic sites are known, cannot be removed from here,
/// and why. A site in any other crate of ours fails the check.
pub const KNOWN: &[(&str, &str)] = &[
    (
        "postcard",
        "varint encoders index a fixed buffer with a length bounded by the \
         type's width; encode-only, never fed wire bytes",
    ),
    (
        "serde_core",
        "u32 Serialize through postcard's varint (same as above)",
    ),
    ("compiler_builtins", "soft-float helpers, not ours"),
];

/// fnp-core's sites left on lm3s6965evb (178 before this check existed,
/// 106 before the ufunc drivers lost theirs): a ratchet, lowered as sites
/// go; more fails. None may be in the wire decoder (`fnp_core::wire`),
/// which is at zero. 94 since fnp's own fmod replaced libm's: the site that
/// was counted in `serve_board` (`reduce::plan::Calls::next` inlined there)
/// is now outlined into fnp-core, so the total is unchanged.
pub const FNP_CORE_BUDGET: usize = 94;

/// Sites per crate, and per function inside each crate.
#[derive(Debug, Default)]
pub struct Report {
    pub by_crate: BTreeMap<String, BTreeMap<String, usize>>,
    /// The core helpers called, and from how many sites.
    pub helpers: BTreeMap<String, usize>,
}

impl Report {
    pub fn total(&self, krate: &str) -> usize {
        self.by_crate.get(krate).map_or(0, |fns| fns.values().sum())
    }
}

/// Where rustup's llvm-objdump lives for the host toolchain.
fn objdump() -> anyhow::Result<std::path::PathBuf> {
    llvm_tool("llvm-objdump")
}

/// Where a tool of rustup's llvm-tools component (`llvm-objdump`,
/// `llvm-size`) lives for the host toolchain.
pub fn llvm_tool(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = |args: &[&str]| -> anyhow::Result<String> {
        let o = Command::new(&rustc)
            .args(args)
            .output()
            .with_context(|| format!("running {rustc}"))?;
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let sysroot = out(&["--print", "sysroot"])?;
    let vv = out(&["-vV"])?;
    let host = vv
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .context("rustc -vV names no host")?;
    let tool = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin")
        .join(name);
    if !tool.exists() {
        bail!(
            "{} is missing: `rustup component add llvm-tools`",
            tool.display()
        );
    }
    Ok(tool)
}

/// Legacy-mangled names as objdump leaves them, made readable, without
/// the hash: `_$LT$fnp_core..x..A$u20$as$u20$T$GT$::f::h0123…` →
/// `<fnp_core::x::A as T>::f`.
pub fn readable(name: &str) -> String {
    let mut s = name.to_string();
    for (from, to) in [
        ("_$LT$", "<"),
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$u20$", " "),
        ("$C$", ","),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$u27$", "'"),
        ("..", "::"),
    ] {
        s = s.replace(from, to);
    }
    match s.rfind("::h") {
        Some(i) if s.len() - i == 19 && s[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => {
            s.truncate(i)
        }
        _ => {}
    }
    s
}

/// The crate a function belongs to: ours when our crate appears anywhere
/// in it (a trait impl or a generic of core instantiated for our types is
/// still core's own code, so only `<our::Type as …>` counts), else the
/// first path segment.
pub fn crate_of(name: &str) -> String {
    if name.starts_with("OUTLINED_FUNCTION_") {
        return "outlined".into();
    }
    let trimmed = name.trim_start_matches('<');
    // Inherent methods of primitives (`<i8>::wrapping_rem`, `<[T]>::…`)
    // are core's code.
    let trimmed = trimmed.trim_start_matches("&mut ").trim_start_matches('&');
    let primitive = trimmed.starts_with('[')
        || trimmed.split(['>', ' ']).next().is_some_and(|t| {
            matches!(
                t,
                "i8" | "i16"
                    | "i32"
                    | "i64"
                    | "i128"
                    | "isize"
                    | "u8"
                    | "u16"
                    | "u32"
                    | "u64"
                    | "u128"
                    | "usize"
                    | "f32"
                    | "f64"
                    | "bool"
                    | "char"
                    | "str"
            )
        });
    if primitive {
        return "core".into();
    }
    let first = trimmed.split([':', ' ', '>', '<']).next().unwrap_or("");
    first.to_string()
}

/// Parses `llvm-objdump -d --demangle` output into function → callees.
pub fn call_graph(disassembly: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in disassembly.lines() {
        if let Some(header) = line.strip_suffix(">:") {
            if let Some((_, name)) = header.split_once(" <") {
                let name = readable(name);
                graph.entry(name.clone()).or_default();
                current = Some(name);
                continue;
            }
        }
        let Some(f) = &current else { continue };
        // `addr: insn operands <target>` — branches name their target; a
        // target with `+0x` is a label inside a function, not a call.
        let mut fields = line.split_whitespace();
        let Some(addr) = fields.next() else { continue };
        if !addr.ends_with(':') {
            continue;
        }
        let Some(mnemonic) = fields.next() else {
            continue;
        };
        if !mnemonic.starts_with('b')
            && !mnemonic.starts_with('j')
            && mnemonic != "call"
            && mnemonic != "tail"
        {
            continue;
        }
        if let (Some(open), Some(close)) = (line.rfind(" <"), line.rfind('>')) {
            if open + 2 < close {
                let target = &line[open + 2..close];
                if !target.contains("+0x") {
                    let target = readable(target);
                    if &target != f {
                        graph.get_mut(f).map(|c| c.insert(target));
                    }
                }
            }
        }
    }
    graph
}

/// The sites of `graph`, grouped by the calling function's crate.
pub fn sites(graph: &BTreeMap<String, BTreeSet<String>>) -> Report {
    // Panicky: reaches core::panicking (fixpoint over the graph).
    let mut panicky: BTreeSet<&str> = graph
        .keys()
        .map(String::as_str)
        .filter(|n| n.starts_with("core::panicking::"))
        .collect();
    loop {
        let before = panicky.len();
        for (f, callees) in graph {
            if !panicky.contains(f.as_str()) && callees.iter().any(|c| panicky.contains(c.as_str()))
            {
                panicky.insert(f);
            }
        }
        if panicky.len() == before {
            break;
        }
    }
    let helper = |g: &str| panicky.contains(g) && crate_of(g) == "core";
    // Callers of each outlined fragment, so its site is charged to them.
    let mut callers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (f, callees) in graph {
        for c in callees {
            callers.entry(c.as_str()).or_default().push(f.as_str());
        }
    }
    let mut report = Report::default();
    for (f, callees) in graph {
        let n = callees.iter().filter(|c| helper(c)).count();
        if n == 0 {
            continue;
        }
        for c in callees.iter().filter(|c| helper(c)) {
            *report.helpers.entry(c.clone()).or_default() += 1;
        }
        let krate = crate_of(f);
        if krate == "core" {
            continue;
        }
        // Charge an outlined fragment's site to every function using it.
        let owners: Vec<&str> = if krate == "outlined" {
            let mut seen = BTreeSet::new();
            let mut stack = vec![f.as_str()];
            let mut owners = Vec::new();
            while let Some(x) = stack.pop() {
                for &c in callers.get(x).map(Vec::as_slice).unwrap_or_default() {
                    if !seen.insert(c) {
                        continue;
                    }
                    if crate_of(c) == "outlined" {
                        stack.push(c);
                    } else {
                        owners.push(c);
                    }
                }
            }
            owners
        } else {
            vec![f.as_str()]
        };
        for o in owners {
            *report
                .by_crate
                .entry(crate_of(o))
                .or_default()
                .entry(o.to_string())
                .or_default() += n;
        }
    }
    report
}

/// Disassembles `elf` and returns its panic sites.
pub fn scan(elf: &Path) -> anyhow::Result<Report> {
    let out = Command::new(objdump()?)
        .args(["-d", "--demangle", "--no-show-raw-insn"])
        .arg(elf)
        .output()
        .with_context(|| format!("disassembling {}", elf.display()))?;
    if !out.status.success() {
        bail!("llvm-objdump failed on {}", elf.display());
    }
    Ok(sites(&call_graph(&String::from_utf8_lossy(&out.stdout))))
}

/// The check: no site in fnp-core or the firmware crates; sites in the
/// [`KNOWN`] dependencies are listed, not failed; any other crate fails.
pub fn check(elf: &Path) -> anyhow::Result<String> {
    let report = scan(elf)?;
    let mut bad = Vec::new();
    let mut known = Vec::new();
    for (krate, fns) in &report.by_crate {
        let total: usize = fns.values().sum();
        if KNOWN.iter().any(|(k, _)| k == krate) {
            known.push(format!("{krate}: {total}"));
            continue;
        }
        if krate == "core" {
            continue;
        }
        if krate == "fnp_core" {
            let wire: Vec<_> = fns
                .iter()
                .filter(|(f, _)| {
                    f.contains("fnp_core::wire::")
                        && !f.contains("encode")
                        && !f.contains("serialize")
                })
                .collect();
            for (f, n) in &wire {
                bad.push(format!("  {n:>3}  {f} (wire decoder: must be 0)"));
            }
            if total <= FNP_CORE_BUDGET {
                known.push(format!("fnp_core: {total} (budget {FNP_CORE_BUDGET})"));
                continue;
            }
            bad.push(format!(
                "  fnp_core has {total} sites, over its budget of {FNP_CORE_BUDGET}:"
            ));
        }
        for (f, n) in fns {
            bad.push(format!("  {n:>3}  {f}"));
        }
    }
    if !bad.is_empty() {
        bail!(
            "{} panic site(s) in our code survive in {}:\n{}\n(list them with \
             llvm-objdump -d --demangle; known dependency sites: {})",
            bad.len(),
            elf.display(),
            bad.join("\n"),
            known.join(", ")
        );
    }
    Ok(format!(
        "no panic site in fnp-core or the firmware; known dependency sites: {}",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIS: &str = "\
00000100 <fnp_core::a::f::h0123456789abcdef>:
     100:      \tbl\t0x200 <core::panicking::panic_bounds_check> @ imm = #0x100
     104:      \tbne\t0x108 <fnp_core::a::f::h0123456789abcdef+0x8> @ imm = #0x0
     108:      \tbl\t0x300 <OUTLINED_FUNCTION_7> @ imm = #0x100
     10c:      \tbl\t0x400 <fnp_core::b::g::hfedcba9876543210> @ imm = #0x100
00000200 <core::panicking::panic_bounds_check>:
     200:      \tbl\t0x500 <core::panicking::panic_fmt> @ imm = #0x300
00000300 <OUTLINED_FUNCTION_7>:
     300:      \tb.w\t0x600 <core::slice::index::slice_index_fail> @ imm = #0x300
00000400 <fnp_core::b::g::hfedcba9876543210>:
     400:      \tbx\tlr
00000500 <core::panicking::panic_fmt>:
     500:      \tb\t0x500 <core::panicking::panic_fmt> @ imm = #0x0
00000600 <core::slice::index::slice_index_fail>:
     600:      \tbl\t0x500 <core::panicking::panic_fmt> @ imm = #0x0
00000700 <_$LT$fnp_core..k..Add$u20$as$u20$fnp_core..k..K$LT$f32$GT$$GT$::apply::h0123456789abcdef>:
     700:      \tbl\t0x600 <core::slice::index::slice_index_fail> @ imm = #0x0
00000800 <libm::math::fmod::fmod::h0123456789abcdef>:
     800:      \tbl\t0x200 <core::panicking::panic_bounds_check> @ imm = #0x0
";

    #[test]
    fn sites_are_charged_to_the_calling_crate() {
        let report = sites(&call_graph(DIS));
        let core = &report.by_crate["fnp_core"];
        // f: a direct bounds check and one through an outlined fragment;
        // g calls nothing that panics.
        assert_eq!(core["fnp_core::a::f"], 2);
        assert!(!core.contains_key("fnp_core::b::g"));
        assert_eq!(core["<fnp_core::k::Add as fnp_core::k::K<f32>>::apply"], 1);
        assert_eq!(report.total("libm"), 1);
        assert!(!report.by_crate.contains_key("core"));
        assert!(!report.by_crate.contains_key("outlined"));
    }

    #[test]
    fn names_are_made_readable() {
        assert_eq!(
            readable("_$LT$core..ops..range..RangeTo$LT$usize$GT$$u20$as$u20$X$GT$::index_mut::ha9f4b7656fd9cb0b"),
            "<core::ops::range::RangeTo<usize> as X>::index_mut"
        );
        assert_eq!(crate_of("<i8>::wrapping_rem"), "core");
        assert_eq!(crate_of("libm::math::fmod::fmod"), "libm");
    }
}
