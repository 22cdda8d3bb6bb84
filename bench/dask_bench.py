"""The Dask side of `npm run bench`: the same workloads on a LocalCluster of 4 single-threaded
worker processes, on this machine, in the same invocation. Prints one JSON object on stdout.

usage: dask_bench.py TASKS CHAIN DAGS TRANSFER_MIB WARMUP RUNS
"""
import json
import statistics
import sys
import time


def inc(x):
    return x + 1


def one(_=None):
    return 1


def add(*xs):
    return sum(xs)


def make_bytes(n):
    return bytes(n)


def size(b):
    return len(b)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": len(values)}


def repeat(warmup, runs, label, measure):
    out = []
    for i in range(warmup + runs):
        print(f"  … dask {label}: run {i + 1} of {warmup + runs}", file=sys.stderr, flush=True)
        value = measure()
        if i >= warmup:
            out.append(value)
    return out


def main():
    tasks, chain, dags, transfer_mib, warmup, runs, items = (int(a) for a in sys.argv[1:8])
    from dask.distributed import Client, LocalCluster, as_completed, wait

    cluster = LocalCluster(
        n_workers=4, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    )
    client = Client(cluster)
    workers = list(client.scheduler_info()["workers"])
    out = {}
    try:
        def dispatch():
            started = time.perf_counter()
            futures = client.map(one, range(tasks), pure=False)
            results = client.gather(futures)
            elapsed = time.perf_counter() - started
            assert sum(results) == tasks
            del futures
            return tasks / elapsed

        out["dispatch"] = summary(repeat(warmup, runs, f"{tasks} independent tiny tasks", dispatch))

        def run_chain(pinned):
            started = time.perf_counter()
            future = client.submit(one, pure=False, workers=[workers[0]] if pinned else None)
            for i in range(1, chain):
                pin = [workers[i % 2]] if pinned else None
                future = client.submit(inc, future, pure=False, workers=pin, allow_other_workers=False)
            value = future.result()
            elapsed = time.perf_counter() - started
            assert value == chain
            return elapsed * 1000 / chain

        out["chain-hop"] = summary(repeat(warmup, runs, f"chain of {chain} across two workers", lambda: run_chain(True)))
        out["chain-local"] = summary(repeat(warmup, runs, f"chain of {chain} placed freely", lambda: run_chain(False)))

        def many():
            started = time.perf_counter()
            sums = []
            for i in range(dags):
                src = client.submit(add, i, pure=False)
                parts = [client.submit(inc, src, pure=False) for _ in range(3)]
                sums.append(client.submit(add, *parts, pure=False))
            results = client.gather(sums)
            elapsed = time.perf_counter() - started
            assert all(r == 3 * i + 3 for i, r in enumerate(results))
            return dags * 5 / elapsed

        out["many-dags"] = summary(repeat(warmup, runs, f"{dags} graphs of 5 tasks", many))

        def stream():
            # Handout's `stream`: each item through three trivial stages, one per worker.
            started = time.perf_counter()
            finals = []
            for i in range(items):
                x = client.submit(inc, i, pure=False, workers=[workers[0]])
                x = client.submit(inc, x, pure=False, workers=[workers[1]], allow_other_workers=False)
                finals.append(client.submit(inc, x, pure=False, workers=[workers[2]], allow_other_workers=False))
            done = sum(1 for _ in as_completed(finals))
            elapsed = time.perf_counter() - started
            assert done == items and client.gather(finals[-1]) == items + 2
            del finals
            return items / elapsed

        out["stream"] = summary(repeat(warmup, runs, f"{items} items through 3 pinned stages", stream))

        n = transfer_mib << 20

        def transfer():
            data = client.submit(make_bytes, n, pure=False, workers=[workers[0]])
            wait(data)
            started = time.perf_counter()
            got = client.submit(size, data, pure=False, workers=[workers[1]], allow_other_workers=False).result()
            elapsed = time.perf_counter() - started
            assert got == n
            del data
            return n / 1e6 / elapsed

        out["transfer"] = summary(repeat(warmup, runs, f"{transfer_mib} MiB worker to worker", transfer))
    finally:
        client.close()
        cluster.close()
    print(json.dumps({"version": __import__("dask").__version__, "scenarios": out}))


if __name__ == "__main__":
    main()
