import json, shutil, pathlib, time
root = pathlib.Path("/work/main")
res = root / "experiments/results"
names = ["lipmondeq_mnist", "lben_from_lipmondeq_mnist", "convsll_mnist", "convlben_from_sll_mnist",
         "lipmondeq_margin_mnist", "lben_from_lipmondeq_margin_mnist", "convsll_margin_mnist",
         "convlben_from_sll_margin_mnist", "convlben_dag_from_sll_margin_mnist"]
old = json.loads((res / "l2_summary.json").read_text()) if (res / "l2_summary.json").exists() else {}
times = {}
for k in ("a", "b"):
    try:
        s, m, e = (int(open(f"/tmp/p1/{k}_{x}").read()) for x in ("start", "mid", "end"))
        times[k] = {"source_wall_s": m - s, "lben_wall_s": e - m, "total_wall_s": e - s}
    except Exception:
        pass
summary = {"commands": {}, "results": {}, "wall_time": {"(a) lipmondeq -> lben": times.get("a") or old.get("wall_time", {}).get("(a) lipmondeq -> lben"),
                                                    "(b) convsll -> convlben": times.get("b") or old.get("wall_time", {}).get("(b) convsll -> convlben")},
           "machine": "2 shared CPU cores (load ~4-5 from other helpers), torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1"}
for n in names:
    src = root / "runs" / n
    dst = res / n
    dst.mkdir(parents=True, exist_ok=True)
    for f in ("metrics.jsonl", "certify.json", "curves.png", "certify.png", "summary.json", "config.json"):
        if (src / f).exists():
            shutil.copy(src / f, dst / f)
    summary["commands"][n] = f"OPENBLAS_NUM_THREADS=1 .venv/bin/deqtheory-train run {n} --out runs/{n} --threads 1 --no-progress"
    if not (src / "certify.json").exists() and n in old.get("results", {}):
        summary["results"][n] = old["results"][n]          # run not present on this machine: keep the record
    elif (src / "certify.json").exists():
        c = json.loads((src / "certify.json").read_text())
        cfg = json.loads((src / "config.json").read_text())
        ep = [r for r in map(json.loads, (src / "metrics.jsonl").read_text().splitlines()) if r.get("kind") == "epoch"]
        summary["results"][n] = {"epochs": cfg["epochs"], "train_subset": cfg["data"].get("train_subset"),
                                 "loss": cfg["loss"],
                                 "model_kwargs": cfg["model"]["kwargs"], "lr": cfg["optimizer"]["lr"],
                                 "eps": c["eps"], "clean_accuracy": c["clean_accuracy"], "certified_accuracy": c["certified_accuracy"],
                                 "n_test": c["n"], "certifier": c["certifier"], "certify_seconds": c.get("seconds"),
                                 "median_certified_radius": c.get("median_certified_radius"),
                                 "train_wall_s": ep[-1]["wall_time"] if ep else None,
                                 "test_acc_float": ep[-1].get("test_acc") if ep else None,
                                 "paper": cfg["paper"]}
for key, (a_, b_) in {"(b) convsll -> convlben": ("convsll_mnist", "convlben_from_sll_mnist"),
                      "(a') lipmondeq_margin -> lben": ("lipmondeq_margin_mnist", "lben_from_lipmondeq_margin_mnist"),
                      "(b') convsll_margin -> convlben": ("convsll_margin_mnist", "convlben_from_sll_margin_mnist"),
                      "(b'') convsll_margin -> conv DAG-LBEN": ("convsll_margin_mnist", "convlben_dag_from_sll_margin_mnist")}.items():
    ra, rb = summary["results"].get(a_, {}), summary["results"].get(b_, {})
    if summary["wall_time"].get(key) is None and ra.get("train_wall_s") and rb.get("train_wall_s"):
        summary["wall_time"][key] = {"source_wall_s": round(ra["train_wall_s"]), "lben_wall_s": round(rb["train_wall_s"]),
                                     "total_wall_s": round(ra["train_wall_s"] + rb["train_wall_s"]),
                                     "from": "epoch records (metrics.jsonl wall_time)"}
summary["certify_command_example"] = "OPENBLAS_NUM_THREADS=1 .venv/bin/deqtheory-train certify runs/lben_from_lipmondeq_mnist/model.npz --norm 2 --eps 0.1411764705882353 0.2823529411764706 0.4235294117647059 1 --json cert.json --plot cert.png"
(res / "l2_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(json.dumps(summary["results"], indent=1)[:3000])
