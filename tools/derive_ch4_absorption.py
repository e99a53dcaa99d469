"""Re-derive ``geotoolz/methane/ch4_absorption.npz`` from mag1c's CH4 look-up table.

The derivation documented in :mod:`geotoolz.methane._absorption`, as a script: give it a
clone of https://github.com/markusfoote/mag1c (BSD-3; the table is ``mag1c/ch4.lut`` and
its ENVI header ``mag1c/ch4.hdr``) and it writes the table, or with ``--check`` compares
it with the one shipped. The test suite does not run it: the 1.8 MB table is not shipped
and tests make no downloads. ::

    uv run python tools/derive_ch4_absorption.py --mag1c ../mag1c --check
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from geotoolz.methane import ch4_absorption_spectrum

#: The seven CH4 enhancements (ppm·m) of the table's last axis.
ENHANCEMENTS = np.array([0, 500, 1000, 2000, 4000, 8000, 16000.0])


def derive(mag1c: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(wavelength_nm, coef)``: ``coef = max(-d ln L / dc / 2, 0)`` at every wavelength."""
    header = (mag1c / "mag1c" / "ch4.hdr").read_text()
    match = re.search(r"wavelength = \{([^}]*)\}", header)
    if match is None:
        raise SystemExit(f"no 'wavelength = {{...}}' list in {mag1c / 'mag1c' / 'ch4.hdr'}")
    wavelength = np.array([float(v) for v in match.group(1).split(",")])
    radiance = np.fromfile(mag1c / "mag1c" / "ch4.lut", "<f8").reshape(wavelength.size, 1, 7)
    design = np.stack([np.ones(ENHANCEMENTS.size), ENHANCEMENTS], axis=1)
    slope = np.linalg.lstsq(design, np.log(radiance[:, 0, :]).T, rcond=None)[0][1]
    return wavelength, np.clip(-slope / 2.0, 0.0, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mag1c", type=Path, required=True, help="a clone of mag1c")
    parser.add_argument("--check", action="store_true", help="compare with the shipped table")
    parser.add_argument("--out", type=Path, default=Path("ch4_absorption.npz"))
    args = parser.parse_args()
    wavelength, coef = derive(args.mag1c)
    if args.check:
        stored_wl, stored_coef = ch4_absorption_spectrum()
        np.testing.assert_allclose(stored_wl, wavelength, rtol=1e-7)
        np.testing.assert_allclose(stored_coef, coef, rtol=1e-6, atol=1e-12)
        print(f"the shipped table equals the derivation ({wavelength.size} wavelengths)")
        return
    np.savez_compressed(args.out, wavelength_nm=wavelength.astype(np.float32),
                        coefficient=coef.astype(np.float32))  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
