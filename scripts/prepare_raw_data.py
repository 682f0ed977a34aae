"""Copy the real Cajamarca data from ``../shared/data`` into ``data/raw`` in compact formats.

Reproducible and lossless: values are never changed, only the container (GeoJSON ->
GeoPackage, a 9 MB CSV -> Parquet).  Run from the repository root:

    python scripts/prepare_raw_data.py [--shared ../shared/data]

Each output's SHA-256 is written to ``data/raw/CHECKSUMS.sha256``.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd

COPY = [
    "ccpp/inei_cpv2017_ccpp_poblacion_cajamarca.csv",
    "boundaries/innovar_peru_distritos_inei2017.gpkg",
    "dem/geodata_elevation30s_cajamarca.tif",
    "dem/geodata_elevation30s_peru.tif",
    "population/inei_directorio_municipalidades_2025_capitales.csv",
    "population/minam_poblacion_distrital_urbana_rural_2019_2023.csv",
    "population/reniec_poblacion_identificada_dic2022_cajamarca_sexo_edad.csv",
    "population/ubigeo_distrito_aumentado.csv",
    "population/ubigeo_provincia_aumentado.csv",
    "roads/inei_calles_ccpp_cajamarca.gpkg",
    "education/cetpro_norte_sitios_verificados.csv",
    "travel/observed_trips.csv",
]
TO_GPKG = [
    "education/dre_cajamarca_base2025_iiee_8ugel.geojson",
    "education/minedu_locales_educativos_cajamarca.geojson",
    "roads/mtc_red_vial_departamental_cajamarca.geojson",
    "roads/mtc_red_vial_departamental_puntos_cajamarca.geojson",
    "roads/mtc_red_vial_vecinal_puntos_cajamarca.geojson",
]
TO_PARQUET = ["ccpp/ubigeo_ccpp_peru.csv"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--out", default="data/raw")
    args = ap.parse_args()
    src, out = Path(args.shared), Path(args.out)
    written = []
    for rel in COPY:
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst)
        written.append(dst)
    for rel in TO_GPKG:
        dst = (out / rel).with_suffix(".gpkg")
        dst.parent.mkdir(parents=True, exist_ok=True)
        gdf = gpd.read_file(src / rel)
        gdf.to_file(dst, driver="GPKG", layer=dst.stem)
        written.append(dst)
    for rel in TO_PARQUET:
        dst = (out / rel).with_suffix(".parquet")
        df = pd.read_csv(src / rel, dtype=str)
        for col in ("latitude", "longitude"):
            df[col] = pd.to_numeric(df[col])
        df.to_parquet(dst, index=False, compression="zstd")
        written.append(dst)
    lines = []
    for p in sorted(written):
        h = hashlib.sha256(p.read_bytes()).hexdigest()
        lines.append(f"{h}  {p.relative_to(out)}")
    (out / "CHECKSUMS.sha256").write_text("\n".join(lines) + "\n")
    total = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} files, {total / 1e6:.1f} MB into {out}")


if __name__ == "__main__":
    main()
