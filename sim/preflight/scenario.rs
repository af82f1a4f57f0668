//! `--write-scenario FILE`: the scenario equivalent to a preflight — the two clusters as
//! inferred (names, versions, security modes, nodes with IPs and services), the phones on the
//! source, the Bulk Certificate Management steps when `--with-bulk-import` was given, option
//! 150 to the destination's TFTP nodes and the reset — to tweak and rerun with `cucmsim run`.
//! The simulator generates that scenario's keys and certificates from the seed; the real files
//! stay with preflight.

use super::infer::Cluster;
use std::fmt::Write as _;

fn cluster_toml(c: &Cluster, out: &mut String) {
    let _ = writeln!(
        out,
        "[[cluster]]\nname = {:?}\nversion = \"{}\"",
        c.name, c.version
    );
    if c.mixed {
        let _ = writeln!(out, "security_mode = \"mixed\"");
    }
    for (i, n) in c.nodes.iter().enumerate() {
        let _ = writeln!(out, "  [[cluster.node]]\n  name = {:?}", n.name);
        if let Some(ip) = n.ip {
            let _ = writeln!(out, "  ip = \"{ip}\"");
        }
        let mut services = vec![];
        for (on, s) in [
            (n.callmanager, "callmanager"),
            (n.tftp, "tftp"),
            (n.tvs, "tvs"),
            (i == 0, "capf"),
        ] {
            if on {
                services.push(format!("{s:?}"));
            }
        }
        let _ = writeln!(out, "  services = [{}]", services.join(", "));
    }
    out.push('\n');
}

fn header(
    src: &Cluster,
    dst: &Cluster,
    phones: u32,
    bulk: bool,
    seed: u64,
    command: &str,
) -> String {
    format!(
        "# Written by `{command}`.\n\
         # The migration preflight checked with the real files of {} (CUCM {}) and {} (CUCM {}):\n\
         # {phones} phones on the source{}, option 150 to the destination's TFTP nodes, reset.\n\
         # Here the clusters' keys and certificates come from the seed, not from those files.\n\
         [scenario]\nname = \"preflight_{}_{}\"\nseed = {seed}\nduration = \"20 min\"\ntls = \"identity\"\n\n",
        src.name,
        src.version,
        dst.name,
        dst.version,
        if bulk {
            ", Bulk Certificate Management on both clusters"
        } else {
            " with no trust exchange"
        },
        src.name.to_ascii_lowercase(),
        dst.name.to_ascii_lowercase(),
    )
}

/// The scenario text.
pub fn scenario(
    src: &Cluster,
    dst: &Cluster,
    phones: u32,
    bulk: bool,
    seed: u64,
    command: &str,
) -> String {
    let mut out = header(src, dst, phones, bulk, seed, command);
    cluster_toml(src, &mut out);
    cluster_toml(dst, &mut out);
    let _ = writeln!(
        out,
        "[[fleet]]\nname = \"phones\"\ncount = {phones}\nmodel = \"8861\"\nmac_start = \"005056800000\"\ncluster = {:?}\n",
        src.name
    );
    let mut step = |at: &str, body: String| {
        let _ = writeln!(out, "[[step]]\nat = \"{at}\"\n{body}\n");
    };
    if bulk {
        step(
            "2 min",
            format!("action = \"bulk_export\"\ncluster = {:?}", src.name),
        );
        step(
            "2 min",
            format!("action = \"bulk_export\"\ncluster = {:?}", dst.name),
        );
        step(
            "3 min",
            format!("action = \"bulk_consolidate\"\ncluster = {:?}", src.name),
        );
        step(
            "4 min",
            format!("action = \"bulk_import\"\ncluster = {:?}", src.name),
        );
        step(
            "4 min",
            format!("action = \"bulk_import\"\ncluster = {:?}", dst.name),
        );
        step(
            "5 min",
            format!(
                "action = \"restart_service\"\ncluster = {:?}\nservice = \"tvs\"",
                src.name
            ),
        );
    }
    let tftp: Vec<String> = dst
        .tftp_nodes()
        .iter()
        .map(|n| format!("{:?}", n.name))
        .collect();
    step(
        "6 min",
        format!("action = \"set_option150\"\ntftp = [{}]", tftp.join(", ")),
    );
    step(
        "7 min",
        "action = \"reset_phones\"\nover = \"1 min\"".into(),
    );
    let _ = writeln!(
        out,
        "[[expect]]\nkind = \"phones\"\nby = \"20 min\"\nstate = \"Registered\"\ncluster = {:?}\ncount = {phones}",
        dst.name
    );
    out
}
