//! The cache levels the measured cores see, read from Linux's sysfs
//! (`cpuN/cache/index*/{level,type,size,shared_cpu_list}`): data and
//! unified caches only, inner to outer, each with what all measured cores
//! together can keep in it.

use super::LimitsError;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where Linux lists each core's caches.
pub const SYSFS_CPUS: &str = "/sys/devices/system/cpu";

/// One cache level of the measured cores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheLevel {
    /// 1, 2, 3, ...
    pub level: u32,
    /// `L1d`, `L2`, `L3`.
    pub name: String,
    /// Bytes all measured cores keep at this level: each distinct cache
    /// (told apart by the cores that share it) counted once, so private
    /// caches add up over the cores and a shared one counts once.
    pub bytes: u64,
}

/// The data and unified cache levels of `cores`, inner to outer, from the
/// sysfs tree at `root` (normally [`SYSFS_CPUS`]). An error names the file
/// or folder that is missing or unreadable.
pub fn cache_levels(root: &Path, cores: &[usize]) -> Result<Vec<CacheLevel>, LimitsError> {
    // level -> the distinct caches of that level: (sharing cores, bytes).
    let mut caches: BTreeMap<u32, BTreeSet<(String, u64)>> = BTreeMap::new();
    for &core in cores {
        let dir = root.join(format!("cpu{core}")).join("cache");
        let missing =
            |path: &Path, reason: String| LimitsError::CacheTopology { core, path: path.to_path_buf(), reason };
        let entries = std::fs::read_dir(&dir).map_err(|e| missing(&dir, e.to_string()))?;
        let mut indices: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("index")))
            .collect();
        indices.sort();
        let mut found = false;
        for index in indices {
            let read = |name: &str| {
                let path = index.join(name);
                std::fs::read_to_string(&path).map(|s| s.trim().to_string()).map_err(|e| missing(&path, e.to_string()))
            };
            let kind = read("type")?;
            if kind == "Instruction" {
                continue;
            }
            let level_text = read("level")?;
            let level: u32 = level_text
                .parse()
                .map_err(|_| missing(&index.join("level"), format!("`{level_text}` is not a cache level")))?;
            let size_text = read("size")?;
            let bytes = parse_size(&size_text)
                .ok_or_else(|| missing(&index.join("size"), format!("`{size_text}` is not a size")))?;
            let sharing = read("shared_cpu_list")?;
            caches.entry(level).or_default().insert((sharing, bytes));
            found = true;
        }
        if !found {
            return Err(missing(&dir, "lists no data or unified cache".into()));
        }
    }
    Ok(caches
        .into_iter()
        .map(|(level, distinct)| CacheLevel {
            level,
            name: if level == 1 { "L1d".to_string() } else { format!("L{level}") },
            bytes: distinct.iter().map(|(_, bytes)| bytes).sum(),
        })
        .collect())
}

/// `48K`, `2048K`, `32M`, `1G` or plain bytes, as sysfs writes sizes.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let scale = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes one cache of `core` into a fake sysfs tree at `root`.
    pub(crate) fn fake_cache(root: &Path, core: usize, index: usize, level: u32, kind: &str, size: &str, shared: &str) {
        let dir = root.join(format!("cpu{core}/cache/index{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, value) in [
            ("level", level.to_string()),
            ("type", kind.into()),
            ("size", size.into()),
            ("shared_cpu_list", shared.into()),
        ] {
            std::fs::write(dir.join(name), format!("{value}\n")).unwrap();
        }
    }

    /// Two cores with private L1d and L2 and one shared L3, like this
    /// project's build machine.
    pub(crate) fn two_core_tree(root: &Path, l1: &str, l2: &str, l3: &str) {
        for core in 0..2 {
            let own = core.to_string();
            fake_cache(root, core, 0, 1, "Data", l1, &own);
            fake_cache(root, core, 1, 1, "Instruction", "64K", &own);
            fake_cache(root, core, 2, 2, "Unified", l2, &own);
            fake_cache(root, core, 3, 3, "Unified", l3, "0-1");
        }
    }

    #[test]
    fn private_caches_add_up_over_the_cores_and_a_shared_one_counts_once() {
        let root = tempfile::tempdir().unwrap();
        two_core_tree(root.path(), "48K", "2048K", "480M");
        let levels = cache_levels(root.path(), &[0, 1]).unwrap();
        let found: Vec<(u32, &str, u64)> = levels.iter().map(|l| (l.level, l.name.as_str(), l.bytes)).collect();
        assert_eq!(found, [(1, "L1d", 96 << 10), (2, "L2", 4 << 20), (3, "L3", 480 << 20)]);
        // One core measured: its own caches, and the whole shared one.
        let one: Vec<u64> = cache_levels(root.path(), &[1]).unwrap().iter().map(|l| l.bytes).collect();
        assert_eq!(one, [48 << 10, 2 << 20, 480 << 20]);
    }

    #[test]
    fn a_missing_cache_listing_or_field_is_named() {
        let root = tempfile::tempdir().unwrap();
        two_core_tree(root.path(), "48K", "2048K", "480M");
        let e = cache_levels(root.path(), &[0, 5]).unwrap_err();
        assert!(e.to_string().contains(&root.path().join("cpu5/cache").display().to_string()), "{e}");
        std::fs::remove_file(root.path().join("cpu1/cache/index2/size")).unwrap();
        let e = cache_levels(root.path(), &[0, 1]).unwrap_err();
        assert!(e.to_string().contains("cpu1/cache/index2/size") && e.to_string().contains("core 1"), "{e}");
        std::fs::write(root.path().join("cpu1/cache/index2/size"), "lots\n").unwrap();
        let e = cache_levels(root.path(), &[1]).unwrap_err();
        assert!(e.to_string().contains("`lots` is not a size"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(empty.path().join("cpu0/cache")).unwrap();
        let e = cache_levels(empty.path(), &[0]).unwrap_err();
        assert!(e.to_string().contains("lists no data or unified cache"), "{e}");
    }

    #[test]
    fn sizes_read_as_sysfs_writes_them() {
        assert_eq!(parse_size("48K"), Some(48 << 10));
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("12Q"), None);
    }
}
