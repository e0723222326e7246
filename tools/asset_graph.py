"""The picture of the asset graph, drawn from the Dagster definitions (``make graph``).

Writes into ``--out`` (default ``docs/``):

- ``asset_graph.dot``: every asset key of the definitions as a node, in a cluster per group,
  and every dependency as an edge (Graphviz: ``dot -Tsvg asset_graph.dot`` draws all of it);
- ``asset_graph.svg``: the picture for the README, drawn here without Graphviz: one box per
  group with its asset count and a few of its keys, in layers from the inbox to the deliveries,
  and an arrow where an asset of one group reads an asset of another. When ``dot`` is
  installed it also writes ``asset_graph_full.svg`` from the ``.dot``.

Prints every asset key, one a line, so the output can be checked against the definitions.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 250, 86, 60, 46, 24
KEYS_SHOWN = 3


def graph() -> tuple[dict[str, str], set[tuple[str, str]]]:
    """Asset key (user string) -> group, and the edges (upstream, downstream)."""
    from orchestration.definitions import defs

    asset_graph = defs.resolve_asset_graph()
    groups, edges = {}, set()
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        groups[key.to_user_string()] = node.group_name or "default"
        for parent in node.parent_keys:
            edges.add((parent.to_user_string(), key.to_user_string()))
    return groups, edges


def dot_text(groups: dict[str, str], edges: set[tuple[str, str]]) -> str:
    by_group = defaultdict(list)
    for key, group in groups.items():
        by_group[group].append(key)
    lines = ["digraph assets {", "  rankdir=LR; node [shape=box, fontsize=10];"]
    for i, (group, keys) in enumerate(sorted(by_group.items())):
        lines.append(f'  subgraph cluster_{i} {{ label="{group}";')
        lines += [f'    "{k}";' for k in sorted(keys)]
        lines.append("  }")
    lines += [f'  "{a}" -> "{b}";' for a, b in sorted(edges) if a in groups and b in groups]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(groups: dict[str, str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """Groups in layers: a group sits one layer after the deepest group it reads from."""
    names = sorted(set(groups.values()))
    reads = {g: set() for g in names}
    for a, b in edges:
        if a in groups and b in groups and groups[a] != groups[b]:
            reads[groups[b]].add(groups[a])
    depth: dict[str, int] = {}

    def level(g: str, seen: frozenset[str] = frozenset()) -> int:
        if g not in depth:
            parents = [p for p in reads[g] if p not in seen]
            depth[g] = 1 + max((level(p, seen | {g}) for p in parents), default=-1)
        return depth[g]

    for g in names:
        level(g)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=0) + 1)]
    for g in names:
        layers[depth[g]].append(g)
    return layers


def svg_text(groups: dict[str, str], edges: set[tuple[str, str]]) -> str:
    layers = _layers(groups, edges)
    members = defaultdict(list)
    for key, group in groups.items():
        members[group].append(key)
    place = {}
    for x, layer in enumerate(layers):
        for y, g in enumerate(layer):
            place[g] = (MARGIN + x * (BOX_W + GAP_X), MARGIN + y * (BOX_H + GAP_Y))
    width = MARGIN * 2 + len(layers) * (BOX_W + GAP_X) - GAP_X
    height = MARGIN * 2 + max(len(layer) for layer in layers) * (BOX_H + GAP_Y) - GAP_Y
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
           'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#888"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    group_edges = {(groups[a], groups[b]) for a, b in edges
                   if a in groups and b in groups and groups[a] != groups[b]}
    for a, b in sorted(group_edges):
        (x1, y1), (x2, y2) = place[a], place[b]
        out.append(f'<line x1="{x1 + BOX_W}" y1="{y1 + BOX_H / 2}" x2="{x2}" '
                   f'y2="{y2 + BOX_H / 2}" stroke="#aaa" stroke-width="1" '
                   'marker-end="url(#arrow)"/>')
    for g, (x, y) in place.items():
        keys = sorted(members[g])
        shown = [html.escape(k if len(k) <= 38 else k[:36] + "…") for k in keys[:KEYS_SHOWN]]
        out.append(f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
                   'fill="#eef3fb" stroke="#4a6fa5"/>')
        out.append(f'<text x="{x + 8}" y="{y + 18}" font-size="13" font-weight="bold">'
                   f'{html.escape(g)} ({len(keys)})</text>')
        for i, k in enumerate(shown):
            out.append(f'<text x="{x + 8}" y="{y + 36 + i * 14}" font-size="10" '
                       f'fill="#333">{k}</text>')
        if len(keys) > KEYS_SHOWN:
            out.append(f'<text x="{x + 8}" y="{y + 36 + KEYS_SHOWN * 14}" font-size="10" '
                       f'fill="#777">… {len(keys) - KEYS_SHOWN} more</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args(argv)
    groups, edges = graph()
    args.out.mkdir(parents=True, exist_ok=True)
    dot_path = args.out / "asset_graph.dot"
    dot_path.write_text(dot_text(groups, edges), encoding="utf-8")
    (args.out / "asset_graph.svg").write_text(svg_text(groups, edges), encoding="utf-8")
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg", str(dot_path), "-o",
                        str(args.out / "asset_graph_full.svg")], check=True)
    for key in sorted(groups):
        print(key)
    print(f"{len(groups)} assets in {len(set(groups.values()))} groups, {len(edges)} edges: "
          f"{dot_path}, {args.out / 'asset_graph.svg'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
