#!/usr/bin/env python3
"""The library's modules and the arrows between them, and every circle among them.

Reads src/ (not the binary's src/cli/ and src/main.rs): a module is a top-level module of the
crate (`host`, `runtime`), and, inside one, each of its files or folders (`host::reload`); an
arrow goes from a module to each module its code names (`crate::runtime::...`, `super::x`).
Prints the arrows as Graphviz DOT with `--dot`, else a summary; exits 1 if any circle.
Usage: scripts/layers.py [--dot]
"""
import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
SKIP = {"main.rs", "cli"}


def modules():
    """(module path as a tuple, file) for every .rs file of the library."""
    for root, dirs, files in os.walk(SRC):
        rel = os.path.relpath(root, SRC)
        parts = [] if rel == "." else rel.split(os.sep)
        if parts and parts[0] in SKIP:
            continue
        for name in files:
            if not name.endswith(".rs") or (not parts and name in SKIP):
                continue
            stem = name[:-3]
            path = parts + ([] if stem in ("mod", "lib") else [stem])
            yield tuple(path), os.path.join(root, name)


def node(path, levels=2):
    """The graph's node for a module path: its top `levels` levels."""
    return "::".join(path[:levels]) if path else "crate"


def arrows(levels):
    """The modules `levels` deep, and the arrows between them."""
    known = {node(path, levels) for path, _ in modules()}
    edges = set()
    for path, file in modules():
        here = node(path, levels)
        with open(file, encoding="utf-8") as source:
            text = re.sub(r"//[^\n]*", "", source.read())
        for match in re.finditer(r"\b(crate|super)((?:::\w+)+)", text):
            names = match.group(2).strip(":").split("::")
            if match.group(1) == "crate":
                target = names
            else:
                # `super` from a file `a/b.rs` (module a::b) is `a`; from `a/b/mod.rs`, also `a`.
                target = list(path[:-1]) + names
            for depth in range(levels, 0, -1):
                candidate = node(target[:depth], levels)
                if candidate in known:
                    break
            else:
                continue
            if candidate != here and not here.startswith(candidate + "::") and not candidate.startswith(here + "::"):
                edges.add((here, candidate))
    return known, edges


def circles(nodes, edges):
    """Strongly connected components of more than one node (Tarjan)."""
    graph = {n: sorted(b for a, b in edges if a == n) for n in nodes}
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main():
    if "--dot" in sys.argv:
        _, edges = arrows(2)
        print("digraph modhost {")
        for a, b in sorted(edges):
            print(f'  "{a}" -> "{b}";')
        print("}")
        return 0
    any_found = False
    for levels, what in ((1, "top-level modules"), (2, "modules two levels deep")):
        nodes, edges = arrows(levels)
        found = circles(nodes, edges)
        any_found |= bool(found)
        print(f"{what}: {len(nodes)}, {len(edges)} arrows, {len(found)} circles")
        for component in found:
            print("  circle: " + " <-> ".join(component))
            for a, b in sorted(edges):
                if a in component and b in component:
                    print(f"    {a} -> {b}")
    return 1 if any_found else 0


if __name__ == "__main__":
    sys.exit(main())
