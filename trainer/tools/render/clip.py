"""Clean cuts through the skin mesh: keep the part where a smooth field is <= 0.

Dropping whole triangles (by their centroid) leaves a saw-tooth edge where the trunk is cut
out of an arm view or the other leg out of a leg view. Here every triangle that straddles
the cut is itself cut along the field's linear zero crossing on its edges, so the cut edge
is a smooth line at the mesh's resolution.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def clip_mesh(
    vertices: FloatArray, normals: FloatArray, triangles: IntArray, field: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Keep the mesh where ``field <= 0`` (one value per vertex); new vertices are appended.

    Windings are kept, and cut-edge normals are interpolated.

    >>> v = np.array([[0.0, 0, 0], [2.0, 0, 0], [0.0, 2, 0]])
    >>> n = np.tile([0.0, 0, 1], (3, 1))
    >>> v2, n2, t2 = clip_mesh(v, n, np.array([[0, 1, 2]]), v[:, 0] - 1.0)
    >>> t2.tolist(), v2[3:].tolist()
    ([[4, 2, 0], [4, 0, 3]], [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    """
    f = np.asarray(field, dtype=np.float64)
    inside = f[triangles] <= 0.0
    count = inside.sum(axis=1)
    parts: list[IntArray] = [triangles[count == 3]]
    crossing = [(n_in, triangles[count == n_in], inside[count == n_in]) for n_in in (1, 2)]
    rotated = []
    for n_in, tris, ins in crossing:
        # Rotate each triangle so its odd vertex (the one inside, or the one outside) is first.
        odd = ins if n_in == 1 else ~ins
        first = np.argmax(odd, axis=1) if len(tris) else np.zeros(0, dtype=np.int64)
        idx = (first[:, None] + np.arange(3)[None, :]) % 3
        rotated.append((n_in, np.take_along_axis(tris, idx, axis=1)))
    # One new vertex per cut edge, shared by the two triangles on that edge, so the cut
    # edge is one connected line.
    edges = np.concatenate(
        [np.concatenate([r[:, [0, 1]], r[:, [0, 2]]]) for _, r in rotated] + [np.zeros((0, 2), np.int64)]
    )
    key = np.sort(edges, axis=1)
    uniq, inverse = np.unique(key, axis=0, return_inverse=True)
    a, b = uniq[:, 0], uniq[:, 1]
    t = f[a] / (f[a] - f[b])
    cut_v = vertices[a] + t[:, None] * (vertices[b] - vertices[a])
    cut_n = normals[a] + t[:, None] * (normals[b] - normals[a])
    cut_n /= np.maximum(np.linalg.norm(cut_n, axis=1, keepdims=True), 1e-12)
    new_id = len(vertices) + inverse.reshape(-1)
    at = 0
    for n_in, r in rotated:
        m = len(r)
        i01, i02 = new_id[at : at + m], new_id[at + m : at + 2 * m]
        at += 2 * m
        if n_in == 1:  # keep the corner at the inside vertex
            parts.append(np.stack([r[:, 0], i01, i02], axis=1))
        else:  # keep the quad r1, r2, p02, p01 (the outside vertex r0 is cut off)
            parts.append(np.stack([i01, r[:, 1], r[:, 2]], axis=1))
            parts.append(np.stack([i01, r[:, 2], i02], axis=1))
    return (
        np.concatenate([vertices, cut_v]),
        np.concatenate([normals, cut_n]),
        np.concatenate(parts).astype(np.int64),
    )
