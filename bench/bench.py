#!/usr/bin/env python3
"""bench.py - tierca against GnuTLS, OpenSSL, easy-rsa and certtool.

Run by `make bench' (bench/run.sh). Every comparison runs both sides in
the same run, interleaved in rounds, and reports medians and ratios: the
machines here are shared and noisy, so absolute times alone mean little.
Prints a table and writes bench/results.json. Targets are reported,
never asserted. Everything is made in a temporary directory, removed at
the end (--keep leaves it).
"""
import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

A = None          # parsed arguments
W = None          # the scratch directory
ENV = None        # environment for every child
PASS = None       # the throwaway root passphrase file


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def run(cmd, cwd=None, ok=(0,), env=None, stdout=subprocess.DEVNULL,
        timeout=None):
    """Runs cmd; returns (seconds, peak RSS in KiB, stdout or None)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd or W, env=env or ENV, stdout=stdout,
                         stderr=subprocess.PIPE)
    out = None
    if stdout == subprocess.PIPE:
        out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in ok:
        sys.stderr.write(err.decode(errors="replace"))
        raise SystemExit("bench: failed (exit %d): %s" % (p.returncode,
                                                          " ".join(cmd)))
    return secs, ru.ru_maxrss, out


def tool(name):
    return os.path.join(A.build, "bin", name)


def prog(name):
    return os.path.join(A.build, "bench", name)


def med(v):
    return statistics.median(v) if v else float("nan")


def hierarchy(d, rootdir):
    """A P-384 server intermediate in d, signed by the root in rootdir."""
    run([tool("tierca-ica"), "init", "--dir", d, "--kind", "server",
         "--subject", "CN=Bench ICA %s,O=Tierca Bench" % os.path.basename(d),
         "--key", "ecdsa-p384"])
    crt = d + ".crt"
    run([tool("tierca-root"), "sign", "--dir", rootdir, "--passphrase-file",
         PASS, "--kind", "server", "--yes", os.path.join(d, "ca.csr"),
         "--out", crt])
    run([tool("tierca-ica"), "install", "--dir", d, crt, "--root",
         os.path.join(rootdir, "ca.crt")])


# ---- 1 and 2: the floor and in-process issuance -------------------------

def bench_inprocess(res):
    """Figure 2: A.lib_n issuances into one CA, in 5 rounds alternating
    with the floor. Most go through ca_issue_batch() (batches of
    A.batch); A.single per round through ca_issue(), first in every round
    but the last and last in the last, so that they sample the database
    near its start and near its end. The batch's per-certificate cost is
    its time divided by its size (the sync round is shared); the ~100th
    and ~last windows are the 3 batches nearest each end."""
    n, rounds = A.lib_n, 5
    per = n // rounds
    single = min(A.single, per)
    lib = os.path.join(W, "lib")
    os.mkdir(lib)
    run([prog("issue"), "setup", lib])
    floors, keygen, sign = [], [], []
    batches, singles = [], []        # (first ordinal, us per cert)
    for r in range(rounds):
        log("in-process round %d/%d: floor %d, libca %d batched + %d single"
            % (r + 1, rounds, A.floor_n, per - single, single))
        _, _, out = run([prog("floor"), str(A.floor_n)],
                        stdout=subprocess.PIPE)
        f = json.loads(out)
        floors.append(f["total_us"])
        keygen.append(f["keygen_us"])
        sign.append(f["sign_us"])
        first = r * per
        steps = [("s", first, single), ("b", first + single, per - single)]
        if r == rounds - 1:
            steps = [("b", first, per - single), ("s", first + per - single,
                                                  single)]
        for kind, at, cnt in steps:
            if cnt == 0:
                continue
            if kind == "s":
                _, _, out = run([prog("issue"), "run", lib, str(at),
                                 str(cnt)], stdout=subprocess.PIPE)
                vals = out.decode().split()
                singles += [(int(vals[i]), float(vals[i + 1]))
                            for i in range(0, len(vals), 2)]
            else:
                _, _, out = run([prog("issue"), "batch", lib, str(at),
                                 str(cnt), str(A.batch)],
                                stdout=subprocess.PIPE)
                vals = out.decode().split()
                batches += [(int(vals[i]), float(vals[i + 2]) /
                             int(vals[i + 1])) for i in range(0, len(vals), 3)]
    floor = med(floors)
    per_cert = [u for _, u in batches]
    lib_us = med(per_cert)
    early = med(per_cert[:3])
    late = med(per_cert[-3:])
    res["floor"] = {"keygen_us": med(keygen), "sign_us": med(sign),
                    "per_cert_us": floor, "rounds": floors,
                    "n_per_round": A.floor_n}
    res["libca_issue"] = {
        "n": n, "batch": A.batch, "batched": len(per_cert) * A.batch,
        "per_cert_us": lib_us,
        "ratio_to_floor": lib_us / floor,
        "issuance_100_us": early, "issuance_last_us": late,
        "early_batches_first": [o for o, _ in batches[:3]],
        "late_batches_first": [o for o, _ in batches[-3:]],
        "last_vs_100": late / early,
        "batches_us_per_cert": batches,
        "note": "ca_issue_batch() in batches of %d: median per-certificate "
                "time of every batch (batch time / size); ~100th and ~last: "
                "the 3 batches nearest each end of the database" % A.batch}
    s_early = [u for o, u in singles if o < per]
    s_late = [u for o, u in singles if o >= n - per]
    res["libca_issue_single"] = {
        "n": len(singles), "per_cert_us": med([u for _, u in singles]),
        "ratio_to_floor": med([u for _, u in singles]) / floor,
        "early_us": med(s_early), "late_us": med(s_late),
        "late_vs_early": med(s_late) / med(s_early),
        "singles_us": singles,
        "note": "ca_issue(), %d a round into the same database: early = "
                "ordinals 0-%d, late = the last %d" % (single, single - 1,
                                                         single)}


# ---- 3: issuance through the CLI ----------------------------------------

OSSL_EXT = """[v3]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def bench_cli(res, rootdir):
    cli = os.path.join(W, "cli")
    hierarchy(cli, rootdir)
    cacrt = os.path.join(cli, "ca.crt")
    cakey = os.path.join(cli, "private", "ca.key")
    ext = os.path.join(W, "ossl-ext.cnf")
    with open(ext, "w") as f:
        f.write(OSSL_EXT)
    for d in ("ossl", "ctool"):
        os.mkdir(os.path.join(W, d))
    # easy-rsa's own PKI: a P-384 CA, P-256 leaves as the others.
    ersa = os.path.join(W, "ersa")
    src = shutil.which("easyrsa")
    src = os.path.dirname(os.path.realpath(src)) if src else "/usr/share/easy-rsa"
    shutil.copytree(src, ersa)
    eenv = dict(ENV, EASYRSA_BATCH="1", EASYRSA_ALGO="ec",
                EASYRSA_CURVE="secp384r1", EASYRSA_REQ_CN="Bench easy-rsa CA",
                EASYRSA_PKI=os.path.join(ersa, "pki"))
    run(["./easyrsa", "init-pki"], cwd=ersa, env=eenv)
    run(["./easyrsa", "build-ca", "nopass"], cwd=ersa, env=eenv)
    eenv["EASYRSA_CURVE"] = "prime256v1"
    eenv.pop("EASYRSA_REQ_CN")

    counter = {"t": 0, "o": 0, "c": 0, "e": 0}

    def tierca_one():
        i = counter["t"]; counter["t"] += 1
        run([tool("tierca-ica"), "issue", "--dir", cli, "cli%d" % i,
             "--dns", "cli%d.bench.internal" % i])

    def openssl_one():
        i = counter["o"]; counter["o"] += 1
        d = os.path.join(W, "ossl")
        name = "host%d.bench.internal" % i
        k, r, c = ("%s/%d.key" % (d, i), "%s/%d.csr" % (d, i),
                   "%s/%d.crt" % (d, i))
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", k, "-out", r,
             "-subj", "/CN=" + name, "-addext",
             "subjectAltName=DNS:" + name])
        run(["openssl", "x509", "-req", "-in", r, "-CA", cacrt, "-CAkey",
             cakey, "-set_serial", "0x%032x" % random.getrandbits(127),
             "-days", "90", "-sha384", "-extfile", ext, "-extensions", "v3",
             "-copy_extensions", "copy", "-out", c])

    def certtool_one():
        i = counter["c"]; counter["c"] += 1
        d = os.path.join(W, "ctool")
        name = "host%d.bench.internal" % i
        k, t, c = ("%s/%d.key" % (d, i), "%s/%d.tmpl" % (d, i),
                   "%s/%d.crt" % (d, i))
        with open(t, "w") as f:
            f.write('cn = "%s"\ndns_name = "%s"\nexpiration_days = 90\n'
                    'tls_www_server\nsigning_key\n' % (name, name))
        run(["certtool", "--generate-privkey", "--key-type", "ecdsa",
             "--curve", "secp256r1", "--outfile", k])
        run(["certtool", "--generate-certificate", "--load-privkey", k,
             "--load-ca-certificate", cacrt, "--load-ca-privkey", cakey,
             "--template", t, "--hash", "SHA384", "--outfile", c])

    def easyrsa_one():
        i = counter["e"]; counter["e"] += 1
        name = "host%d" % i
        run(["./easyrsa", "gen-req", name, "nopass"], cwd=ersa, env=eenv)
        run(["./easyrsa", "sign-req", "server", name], cwd=ersa, env=eenv)

    sides = [("tierca", tierca_one, A.cli_n), ("openssl", openssl_one, A.cli_n),
             ("certtool", certtool_one, A.cli_n),
             ("easy-rsa", easyrsa_one, A.easyrsa_n)]
    rounds = 5
    times = {s[0]: [] for s in sides}
    for r in range(rounds):
        log("CLI round %d/%d" % (r + 1, rounds))
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        for name, fn, n in order:
            k = n // rounds
            t0 = time.perf_counter()
            for _ in range(k):
                fn()
            times[name].append((time.perf_counter() - t0) * 1000 / k)
    t = med(times["tierca"])
    out = {"tierca_ms": t}
    for name in ("openssl", "certtool", "easy-rsa"):
        out[name.replace("-", "") + "_ms"] = med(times[name])
        out["speedup_vs_" + name.replace("-", "")] = med(times[name]) / t
    out["n"] = {s[0]: (s[2] // rounds) * rounds for s in sides}
    out["rounds_ms"] = times
    res["cli_issue"] = out
    # The peers' output is checked once, so a broken loop cannot look fast.
    run(["openssl", "verify", "-CAfile", cacrt, "-partial_chain",
         os.path.join(W, "ossl", "0.crt")])


# ---- 4: a CRL of 100,000 entries ---------------------------------------

def utc(t):
    return time.strftime("%y%m%d%H%M%SZ", time.gmtime(t))


def bench_crl(res, rootdir):
    d = os.path.join(W, "crl")
    hierarchy(d, rootdir)
    now = int(time.time())
    reasons = ["", ",keyCompromise", ",superseded", ",cessationOfOperation"]
    rnd = random.Random(7)
    lines = []
    for i in range(A.crl_n):
        serial = "%032X" % (rnd.getrandbits(128) >> 1 | 1 << 124)
        lines.append("R\t%s\t%s%s\t%s\trev%d\t/CN=rev%d.bench.internal\n" % (
            utc(now + 60 * 86400), utc(now - 86400 + i % 3600),
            reasons[i % 4], serial, i, i))
    with open(os.path.join(d, "index.txt"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(d, "index.txt.attr"), "w") as f:
        f.write("unique_subject = no\n")
    os.mkdir(os.path.join(W, "ossl-ca"))
    with open(os.path.join(W, "ossl-ca", "crlnumber"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(W, "ossl-ca", "ca.cnf")
    with open(cnf, "w") as f:
        f.write("""[ca]
default_ca = bench
[bench]
database = {d}/index.txt
certificate = {d}/ca.crt
private_key = {d}/private/ca.key
crlnumber = {o}/crlnumber
new_certs_dir = {o}
serial = {o}/serial
default_md = sha384
default_crl_days = 14
unique_subject = no
policy = pol
[pol]
commonName = supplied
""".format(d=d, o=os.path.join(W, "ossl-ca")))
    rounds = 5
    tt, tr, ot, orss = [], [], [], []
    for r in range(rounds):
        log("CRL round %d/%d (%d entries)" % (r + 1, rounds, A.crl_n))
        pair = [("t", [tool("tierca-ica"), "crl", "--dir", d]),
                ("o", ["openssl", "ca", "-config", cnf, "-gencrl", "-out",
                       os.path.join(W, "ossl-ca", "crl.pem")])]
        if r % 2:
            pair.reverse()
        for side, cmd in pair:
            s, rss, _ = run(cmd)
            (tt if side == "t" else ot).append(s)
            (tr if side == "t" else orss).append(rss)
    # Both CRLs must hold every entry; openssl is the judge of ours.
    for p in (os.path.join(d, "crl.pem"), os.path.join(W, "ossl-ca", "crl.pem")):
        _, _, out = run(["openssl", "crl", "-in", p, "-noout", "-text"],
                        stdout=subprocess.PIPE)
        got = out.count(b"Serial Number:")
        if got != A.crl_n:
            raise SystemExit("bench: %s holds %d entries, want %d" % (
                p, got, A.crl_n))
    res["crl"] = {"entries": A.crl_n, "tierca_s": med(tt),
                  "tierca_rss_mib": max(tr) / 1024, "openssl_s": med(ot),
                  "openssl_rss_mib": max(orss) / 1024,
                  "speedup_vs_openssl": med(ot) / med(tt),
                  "rounds_s": {"tierca": tt, "openssl": ot}}


# ---- 5 and 6: the expiry scan and renew over 10,000 ---------------------

def bench_scan(res):
    srv = os.path.join(W, "lib", "server")
    tpl, inst = os.path.join(W, "tpl"), os.path.join(W, "inst")
    os.mkdir(tpl)
    os.mkdir(inst)
    names = sorted(os.listdir(os.path.join(srv, "issued")))
    names = [n for n in names if not n.startswith(".")]
    for n in names:
        with open(os.path.join(tpl, n + ".cfg"), "w") as f:
            f.write('name = "%s";\nca = "server";\ndns = [ "%s.bench.internal" ];\n'
                    'install: { cert = "%s/%s.crt"; };\n' % (n, n, inst, n))
        dst = os.path.join(inst, n + ".crt")
        shutil.copyfile(os.path.join(srv, "issued", n, "cert.pem"), dst)
        os.chmod(dst, 0o640)
    cfg = os.path.join(W, "scan.cfg")
    with open(cfg, "w") as f:
        f.write('server: { dir = "%s"; };\ntemplates = "%s";\n'
                'monitor: { textfile = "%s/scan.prom"; };\n' % (srv, tpl, W))
    run([tool("tierca-ica"), "crl", "--dir", srv])
    sample = random.Random(5).sample(names, min(500, len(names)))
    sample = [os.path.join(inst, n + ".crt") for n in sample]
    rounds = 3
    mt, mr, ct = [], [], []
    for r in range(rounds):
        log("scan round %d/%d (%d certificates)" % (r + 1, rounds, len(names)))
        s, rss, _ = run([tool("tierca-monitor"), "-c", cfg], ok=(0, 1, 2, 3))
        mt.append(s)
        mr.append(rss)
        t0 = time.perf_counter()
        for p in sample:
            run(["openssl", "x509", "-in", p, "-noout", "-checkend",
                 str(30 * 86400)], ok=(0, 1))
        ct.append((time.perf_counter() - t0) * len(names) / len(sample))
    # The scan must have looked at every certificate and installed file.
    _, _, out = run([tool("tierca-monitor"), "-c", cfg, "--json"],
                    ok=(0, 1, 2, 3), stdout=subprocess.PIPE)
    checks = json.loads(out).get("checks", [])
    kinds = {}
    for c in checks:
        kinds[c.get("kind")] = kinds.get(c.get("kind"), 0) + 1
    res["scan"] = {"certificates": len(names), "installed_files": len(names),
                   "tierca_s": med(mt), "tierca_rss_mib": max(mr) / 1024,
                   "checkend_s_extrapolated": med(ct),
                   "checkend_sample": len(sample),
                   "speedup_vs_checkend": med(ct) / med(mt),
                   "checks_by_kind": kinds,
                   "rounds_s": {"tierca": mt, "checkend_extrapolated": ct}}

    rt = []
    for r in range(rounds):
        log("renew round %d/%d (%d templates, nothing due)" % (
            r + 1, rounds, len(names)))
        s, rss, out = run([tool("tierca-renew"), "-c", cfg],
                          stdout=subprocess.PIPE)
        rt.append(s)
        if r == 0 and (b" 0 issued, 0 renewed" not in out):
            raise SystemExit("bench: renew had something to do:\n" +
                             out.decode()[-500:])
    res["renew"] = {"templates": len(names), "tierca_s": med(rt),
                    "rss_mib": rss / 1024, "rounds_s": rt}


# ---- the table ----------------------------------------------------------

def targets(res):
    f, li, cl = res["floor"], res["libca_issue"], res["cli_issue"]
    crl, sc, rn = res["crl"], res["scan"], res["renew"]
    return [
        ("in-process issuance within 1.5x of the floor",
         "%.1fx" % li["ratio_to_floor"], li["ratio_to_floor"] <= 1.5),
        ("10,000th issuance <= 1.2x the 100th",
         "%.2fx" % li["last_vs_100"], li["last_vs_100"] <= 1.2),
        ("CLI >= 100x faster than easy-rsa",
         "%.1fx" % cl["speedup_vs_easyrsa"], cl["speedup_vs_easyrsa"] >= 100),
        ("CLI >= 10x faster than the OpenSSL loop",
         "%.1fx" % cl["speedup_vs_openssl"], cl["speedup_vs_openssl"] >= 10),
        ("CLI >= 3x faster than the certtool loop",
         "%.1fx" % cl["speedup_vs_certtool"], cl["speedup_vs_certtool"] >= 3),
        ("100,000-entry CRL < 0.25 s",
         "%.3f s" % crl["tierca_s"], crl["tierca_s"] < 0.25),
        ("100,000-entry CRL < 64 MiB peak RSS",
         "%.1f MiB" % crl["tierca_rss_mib"], crl["tierca_rss_mib"] < 64),
        ("CRL >= 2x faster than openssl ca -gencrl",
         "%.2fx" % crl["speedup_vs_openssl"], crl["speedup_vs_openssl"] >= 2),
        ("10,000-certificate scan < 0.5 s",
         "%.3f s" % sc["tierca_s"], sc["tierca_s"] < 0.5),
        ("scan >= 500x faster than the checkend loop",
         "%.0fx" % sc["speedup_vs_checkend"], sc["speedup_vs_checkend"] >= 500),
        ("renew, nothing due over 10,000 < 0.5 s",
         "%.3f s" % rn["tierca_s"], rn["tierca_s"] < 0.5),
    ]


def table(res):
    f, li, cl = res["floor"], res["libca_issue"], res["cli_issue"]
    ls = res["libca_issue_single"]
    crl, sc, rn = res["crl"], res["scan"], res["renew"]
    rows = [
        ("1", "GnuTLS floor: P-256 keygen", "%.0f us" % f["keygen_us"], "", ""),
        ("1", "GnuTLS floor: sign a leaf (P-384 ICA)", "%.0f us" % f["sign_us"],
         "", ""),
        ("1", "GnuTLS floor: per certificate", "%.0f us" % f["per_cert_us"],
         "", "target ~230 us"),
        ("2", "libca ca_issue_batch (%d a batch), %d into one DB" % (
            li["batch"], li["n"]),
         "%.0f us" % li["per_cert_us"], "%.1fx floor" % li["ratio_to_floor"],
         "<= 1.5x"),
        ("2", "  issuance ~100th", "%.0f us" % li["issuance_100_us"], "", ""),
        ("2", "  issuance ~%dth" % li["n"], "%.0f us" % li["issuance_last_us"],
         "%.2fx the 100th" % li["last_vs_100"], "<= 1.2x"),
        ("2", "libca ca_issue (single), %d of them" % ls["n"],
         "%.0f us" % ls["per_cert_us"], "%.1fx floor" % ls["ratio_to_floor"],
         ""),
        ("2", "  single, first %d vs last %d" % (ls["n"] // 5, ls["n"] // 5),
         "%.0f / %.0f us" % (ls["early_us"], ls["late_us"]),
         "%.2fx" % ls["late_vs_early"], ""),
        ("3", "tierca-ica issue (per cert, n=%d)" % cl["n"]["tierca"],
         "%.1f ms" % cl["tierca_ms"], "", ""),
        ("3", "openssl req + x509 -req (n=%d)" % cl["n"]["openssl"],
         "%.1f ms" % cl["openssl_ms"], "%.1fx slower" % cl["speedup_vs_openssl"],
         ">= 10x (44 ms)"),
        ("3", "certtool loop (n=%d)" % cl["n"]["certtool"],
         "%.1f ms" % cl["certtool_ms"],
         "%.1fx slower" % cl["speedup_vs_certtool"], ">= 3x (17 ms)"),
        ("3", "easy-rsa gen-req + sign-req (n=%d)" % cl["n"]["easy-rsa"],
         "%.0f ms" % cl["easyrsa_ms"], "%.0fx slower" % cl["speedup_vs_easyrsa"],
         ">= 100x (408 ms)"),
        ("4", "tierca-ica crl, %d entries" % crl["entries"],
         "%.3f s %.0f MiB" % (crl["tierca_s"], crl["tierca_rss_mib"]), "",
         "< 0.25 s, < 64 MiB"),
        ("4", "openssl ca -gencrl, same index",
         "%.3f s %.0f MiB" % (crl["openssl_s"], crl["openssl_rss_mib"]),
         "%.2fx slower" % crl["speedup_vs_openssl"], ">= 2x (0.40 s)"),
        ("5", "tierca-monitor, %d certs + %d files" % (
            sc["certificates"], sc["installed_files"]),
         "%.3f s %.0f MiB" % (sc["tierca_s"], sc["tierca_rss_mib"]), "",
         "< 0.5 s"),
        ("5", "openssl x509 -checkend loop (extrapolated from %d)" %
         sc["checkend_sample"], "%.1f s" % sc["checkend_s_extrapolated"],
         "%.0fx slower" % sc["speedup_vs_checkend"], ">= 500x"),
        ("6", "tierca-renew, nothing due, %d templates" % rn["templates"],
         "%.3f s" % rn["tierca_s"], "", "< 0.5 s"),
    ]
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    hdr = ("#", "measure", "median", "ratio", "target")
    w = [max(w[i], len(hdr[i])) for i in range(5)]
    lines = ["  ".join(h.ljust(w[i]) for i, h in enumerate(hdr)).rstrip(),
             "  ".join("-" * w[i] for i in range(5))]
    for r in rows:
        lines.append("  ".join(c.ljust(w[i]) for i, c in enumerate(r)).rstrip())
    lines.append("")
    for name, got, met in targets(res):
        lines.append("%s  %-46s %s" % ("met   " if met else "MISSED", name, got))
    return "\n".join(lines)


def table_inprocess(res):
    """Figures 1 and 2 alone (--only inprocess)."""
    f, li, ls = res["floor"], res["libca_issue"], res["libca_issue_single"]
    lines = [
        "1  GnuTLS floor: per certificate     %.0f us (keygen %.0f, sign %.0f)"
        % (f["per_cert_us"], f["keygen_us"], f["sign_us"]),
        "2  libca ca_issue_batch (%d a batch), %d into one DB: %.0f us, "
        "%.2fx floor (target <= 1.5x)" % (li["batch"], li["n"],
                                         li["per_cert_us"],
                                         li["ratio_to_floor"]),
        "2    ~100th %.0f us, ~%dth %.0f us: %.2fx (target <= 1.2x)" % (
            li["issuance_100_us"], li["n"], li["issuance_last_us"],
            li["last_vs_100"]),
        "2  libca ca_issue (single), %d: %.0f us, %.1fx floor; first %.0f us,"
        " last %.0f us: %.2fx" % (ls["n"], ls["per_cert_us"],
                                  ls["ratio_to_floor"], ls["early_us"],
                                  ls["late_us"], ls["late_vs_early"]),
    ]
    return "\n".join(lines)


def main():
    global A, W, ENV, PASS
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--lib-n", type=int, default=10000)
    ap.add_argument("--floor-n", type=int, default=400)
    ap.add_argument("--cli-n", type=int, default=300)
    ap.add_argument("--easyrsa-n", type=int, default=20)
    ap.add_argument("--crl-n", type=int, default=100000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--single", type=int, default=100)
    ap.add_argument("--only", choices=["inprocess"],
                    help="run figures 1 and 2 only")
    A = ap.parse_args()
    A.build = os.path.abspath(A.build)
    W = tempfile.mkdtemp(prefix="tierca-bench.")
    ENV = {k: v for k, v in os.environ.items()
           if not k.startswith("TIERCA_") and k not in ("B", "OPENSSL_CONF")}
    ENV["TZ"] = "UTC"
    ENV["PATH"] = os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/share/easy-rsa"
    start = time.time()
    try:
        PASS = os.path.join(W, "root.pass")
        fd = os.open(PASS, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"bench throwaway passphrase 3c1d\n")
        os.close(fd)
        rootdir = os.path.join(W, "root")
        run([tool("tierca-root"), "init", "--dir", rootdir, "--subject",
             "CN=Bench Root,O=Tierca Bench", "--passphrase-file", PASS])
        res = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "host": {"cpus": os.cpu_count(), "machine": platform.machine(),
                        "kernel": platform.release(),
                        "load_at_start": os.getloadavg()[0]}}
        bench_inprocess(res)
        if A.only == "inprocess":
            res["seconds"] = time.time() - start
            text = table_inprocess(res)
            res["table"] = text
            with open(A.out, "w") as f:
                json.dump(res, f, indent=2)
                f.write("\n")
            print(text)
            print("\n(%.0f s; load %.1f at start; %s)" % (
                res["seconds"], res["host"]["load_at_start"], A.out))
            return
        bench_cli(res, rootdir)
        bench_crl(res, rootdir)
        bench_scan(res)
        res["seconds"] = time.time() - start
        res["targets"] = [{"target": n, "got": g, "met": m}
                          for n, g, m in targets(res)]
        text = table(res)
        res["table"] = text
        with open(A.out, "w") as f:
            json.dump(res, f, indent=2)
            f.write("\n")
        print(text)
        print("\n(%.0f s; load %.1f at start; %s)" % (
            res["seconds"], res["host"]["load_at_start"], A.out))
    finally:
        if A.keep:
            log("kept " + W)
        else:
            shutil.rmtree(W, ignore_errors=True)


if __name__ == "__main__":
    main()
