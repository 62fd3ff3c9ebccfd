"""Rasteriser and shading of the synthetic hands: a z-buffer with deferred shading at
supersampled resolution, skin colours and smooth noise textures.

Conventions
-----------
* Camera frame (OpenCV): x right, y down, z forward, depths in cm.
* Rendering happens at ``ss`` times the image resolution (supersampling, default 3) and is
  averaged down later (:func:`clamp_hand.datasets.synthetic_scene.composite`). The label and
  depth maps stay at that resolution: their pixel ``(c, r)`` covers image coordinates
  ``[c / ss, (c + 1) / ss) x [r / ss, (r + 1) / ss)``.
* Every surface pixel goes through the z-buffer, so self-occlusion and occlusion between the two
  hands are exact; its label map (values:
  :func:`~clamp_hand.datasets.synthetic_hand_model.part_label`) gives each keypoint its
  visibility.

Hand-written rather than taken from a library: OpenCV draws flat 2D shapes without depth, and no
installed package rasterises tapered capsules with per-pixel depth, normals and labels.
"""
import math

import cv2
import numpy as np

from .synthetic_hand_model import ARM_LENGTH, PART_FOREARM, part_label, unit

SKIN_TONES = np.array([  # RGB, light to dark
    [0.97, 0.82, 0.72], [0.92, 0.71, 0.58], [0.82, 0.58, 0.43],
    [0.64, 0.43, 0.30], [0.45, 0.29, 0.19], [0.30, 0.19, 0.13]])



# ----------------------------------------------------------------------------------------------
# Rasteriser: z-buffer with deferred shading, at supersampled resolution
# ----------------------------------------------------------------------------------------------
class ZBuffer:
    """Depth (cm), label, normal and albedo buffers of shape (h, w[, 3]) in supersampled
    pixels; primitives are given in supersampled pixel coordinates plus camera depths."""

    def __init__(self, h, w):
        self.h, self.w = h, w
        self.z = np.full((h, w), np.inf, np.float32)
        self.label = np.zeros((h, w), np.int16)
        self.normal = np.zeros((h, w, 3), np.float32)
        self.albedo = np.zeros((h, w, 3), np.float32)
        self.xs = np.arange(w, dtype=np.float32) + 0.5  # pixel centres
        self.ys = np.arange(h, dtype=np.float32) + 0.5

    def _window(self, lo, hi):
        x0, y0 = max(0, int(math.floor(lo[0]))), max(0, int(math.floor(lo[1])))
        x1, y1 = min(self.w, int(math.ceil(hi[0])) + 1), min(self.h, int(math.ceil(hi[1])) + 1)
        return x0, y0, x1, y1

    def capsule(self, a, b, ra, rb, za, zb, rza, rzb, label, albedo, palmar, nail):
        """Tapered capsule between image points ``a``, ``b`` (2,) with image radii ``ra``,
        ``rb`` (px), axis depths ``za``, ``zb`` and true radii ``rza``, ``rzb`` (cm).
        ``palmar`` (3,) camera-space direction that gets lighter skin, or None; ``nail``:
        ``(dorsal (3,), colour (3,))`` to paint a nail near the ``b`` end, or None."""
        x0, y0, x1, y1 = self._window(np.minimum(a - ra, b - rb), np.maximum(a + ra, b + rb))
        if x0 >= x1 or y0 >= y1:
            return
        X, Y = self.xs[None, x0:x1], self.ys[y0:y1, None]
        d = b - a
        if d @ d < 1e-6:  # seen end-on: only the nearer end shows
            t = np.full((1, 1), 0.0 if za <= zb else 1.0, np.float32)
        else:
            t = np.clip(((X - a[0]) * d[0] + (Y - a[1]) * d[1]) / (d @ d), 0.0, 1.0)
        ex, ey = X - a[0] - t * d[0], Y - a[1] - t * d[1]
        r = ra + t * (rb - ra)
        q2 = 1.0 - (ex * ex + ey * ey) / (r * r)
        inside = q2 > 0
        if not inside.any():
            return
        q = np.sqrt(np.maximum(q2, 0.0))
        z = za + t * (zb - za) - (rza + t * (rzb - rza)) * q
        zs = self.z[y0:y1, x0:x1]
        win = inside & (z < zs)
        if not win.any():
            return
        n = np.stack([ex / r, ey / r, -q], axis=-1)[win]
        col = np.broadcast_to(np.asarray(albedo, np.float32), n.shape).copy()
        if palmar is not None:
            col = np.minimum(col * (1.0 + np.clip(n @ palmar, 0, 1)[:, None]
                                    * palmar_boost(albedo)), 0.95)
        if nail is not None:
            dorsal, nail_col = nail
            tw = np.broadcast_to(t, win.shape)[win]
            on_nail = (tw > 0.4) & (tw < 0.97) & (n @ dorsal > 0.5)
            col[on_nail] = nail_col
        zs[win] = z[win]
        self.label[y0:y1, x0:x1][win] = label
        self.normal[y0:y1, x0:x1][win] = n
        self.albedo[y0:y1, x0:x1][win] = col

    def triangle(self, uv, pts, label, albedo, palmar, focal, pp, pillow=None):
        """Flat triangle with image vertices ``uv`` (3, 2) px and camera points ``pts``
        (3, 3) cm; ``focal`` (px) and ``pp`` (2,) px are the camera at this resolution.
        ``pillow``: ``(centre (2,) px, radius px, normal (3,))`` shades the triangle with
        ``normal`` bent outwards from ``centre``, so that a fan of triangles looks like one
        rounded surface."""
        x0, y0, x1, y1 = self._window(uv.min(0), uv.max(0))
        if x0 >= x1 or y0 >= y1:
            return
        X, Y = self.xs[None, x0:x1], self.ys[y0:y1, None]
        area = (uv[1, 0] - uv[0, 0]) * (uv[2, 1] - uv[0, 1]) - \
            (uv[1, 1] - uv[0, 1]) * (uv[2, 0] - uv[0, 0])
        if abs(area) < 1e-3:
            return
        inside = np.ones((y1 - y0, x1 - x0), bool)
        for i in range(3):
            p, q = uv[i], uv[(i + 1) % 3]
            e = (q[0] - p[0]) * (Y - p[1]) - (q[1] - p[1]) * (X - p[0])
            inside &= e * area >= 0
        if not inside.any():
            return
        nrm = np.cross(pts[1] - pts[0], pts[2] - pts[0])
        nrm = nrm / (np.linalg.norm(nrm) + 1e-12)
        if nrm[2] > 0:
            nrm = -nrm
        # depth where the ray through each pixel centre meets the triangle's plane
        denom = nrm[0] * (X - pp[0]) / focal + nrm[1] * (Y - pp[1]) / focal + nrm[2]
        with np.errstate(divide='ignore', invalid='ignore'):
            z = (pts[0] @ nrm) / denom
        zs = self.z[y0:y1, x0:x1]
        win = inside & (z > 0) & (z < zs)
        if not win.any():
            return
        col = np.asarray(albedo, np.float32)
        if palmar is not None:
            col = np.minimum(col * (1.0 + max(0.0, float(nrm @ palmar)) * palmar_boost(albedo)),
                             0.95)
        zs[win] = z[win]
        self.label[y0:y1, x0:x1][win] = label
        if pillow is None:
            self.normal[y0:y1, x0:x1][win] = nrm
        else:
            (cx, cy), rad, base = pillow
            base = base if base[2] <= 0 else -base
            out = np.stack(np.broadcast_arrays((X - cx) / rad, (Y - cy) / rad, 0 * X), -1)[win]
            out -= (out @ base)[:, None] * base  # bend within the surface
            n = base + 0.8 * out
            self.normal[y0:y1, x0:x1][win] = n / np.linalg.norm(n, axis=1, keepdims=True)
        self.albedo[y0:y1, x0:x1][win] = col


def palmar_boost(skin):
    """How much lighter palms are than the back of the hand (darker skins: more)."""
    return 0.02 + 0.4 * (1.0 - float(np.mean(skin)))


def noise_field(rng, h, w, cells):
    """Smooth random field in [0, 1] of shape (h, w) with about ``cells`` blobs per side."""
    g = rng.random((cells + 3, cells + 3)).astype(np.float32)
    big = cv2.resize(g, (w * (cells + 3) // (cells + 1), h * (cells + 3) // (cells + 1)),
                     interpolation=cv2.INTER_CUBIC)
    oy, ox = (big.shape[0] - h) // 2, (big.shape[1] - w) // 2
    return np.clip(big[oy:oy + h, ox:ox + w], 0, 1)



def skin_colour(rng):
    """Random skin albedo (3,) RGB in [0, 1]."""
    t = rng.uniform(0, len(SKIN_TONES) - 1)
    i = min(int(t), len(SKIN_TONES) - 2)
    c = SKIN_TONES[i] * (1 - (t - i)) + SKIN_TONES[i + 1] * (t - i)
    return np.clip(c * rng.uniform(0.92, 1.06) + rng.normal(0, 0.015, 3), 0, 1)


def rasterise_hands(rng, hands, cam, size, ss):
    """Draw every hand's capsules and triangles into a z-buffer of (size * ss)^2 pixels."""
    zb = ZBuffer(size * ss, size * ss)
    fs, pps = cam.f * ss, cam.pp * ss

    def proj(p):  # camera points -> supersampled pixels
        return cam.project(p) * ss

    sleeve_col = rng.random(3) * rng.uniform(0.3, 1.0)
    sleeve = rng.uniform(6, 20) / ARM_LENGTH if rng.random() < 0.5 else None  # its start
    same_person = rng.random() < 0.85
    skin = skin_colour(rng)
    for slot, hd in enumerate(hands):
        if slot > 0 and not same_person:
            skin = skin_colour(rng)
        nail_col = np.clip(skin * 0.8 + np.array([0.22, 0.15, 0.15]), 0, 1)
        palmar = hd['palm_normal']
        for p0, p1, r0, r1, part, dorsal, tip in hd['capsules']:
            ra, rb = fs * r0 / p0[2], fs * r1 / p1[2]
            label = part_label(slot, part)
            pal = None if part == PART_FOREARM else (palmar if dorsal is None else -dorsal)
            zb.capsule(proj(p0), proj(p1), ra, rb, p0[2], p1[2], r0, r1, label, skin, pal,
                       (dorsal, nail_col) if tip else None)
            if part == PART_FOREARM and sleeve is not None:  # over the far part of the arm
                s0, rs = p0 + (p1 - p0) * sleeve, 1.15 * (r0 + (r1 - r0) * sleeve)
                zb.capsule(proj(s0), proj(p1), fs * rs / s0[2], rb * 1.15, s0[2], p1[2],
                           rs, r1 * 1.15, label, sleeve_col, None, None)
        pillow = (proj(hd['palm_centre']), fs * hd['palm_radius'] / hd['palm_centre'][2],
                  palmar)
        for verts, part, pl in hd['triangles']:
            zb.triangle(proj(verts), verts, part_label(slot, part), skin, palmar, fs, pps,
                        pillow if pl else None)
    return zb


def shade_hands(rng, zb, cam, ss):
    """Light the z-buffer (ambient + Lambert + a little specular, contact shadows, skin
    blotches). Returns the hand colour (H, W, 3) float32 RGB, 0 off the hands, and the
    light direction (3,) (camera frame, pointing at the light)."""
    mask = zb.label > 0
    light = unit(np.array([rng.normal(0, 0.7), rng.normal(-0.4, 0.7), -rng.uniform(0.4, 1.3)]))
    amb, dif = rng.uniform(0.25, 0.5), rng.uniform(0.5, 0.85)
    light_col = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.06, 3)
    ndl = np.clip(zb.normal @ light.astype(np.float32), 0, 1)
    half = unit(light + np.array([0.0, 0.0, -1.0])).astype(np.float32)
    spec = rng.uniform(0.0, 0.15) * np.clip(zb.normal @ half, 0, 1) ** 12
    shade = amb * np.array([1.0, 0.9, 0.88]) + dif * ndl[..., None] * light_col
    col = zb.albedo * shade.astype(np.float32) + spec[..., None]
    # contact shadows: darken surfaces that lie well (cm) behind a nearby nearer surface
    zfill = np.where(mask, zb.z, np.float32(1e4))
    depth = float(np.median(zb.z[mask])) if mask.any() else 50.0
    k = max(3, int(round(cam.f * ss * 1.2 / depth)) | 1)  # ~1.2 cm in pixels, odd
    zmin_near = cv2.erode(zfill, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    ao = np.clip((zfill - zmin_near) / 2.5, 0, 1)
    col *= (1.0 - 0.45 * cv2.GaussianBlur(ao, (0, 0), k / 4))[..., None]
    col *= (0.93 + 0.14 * noise_field(rng, *mask.shape, 12))[..., None]  # skin blotches
    col[~mask] = 0
    return col, light

