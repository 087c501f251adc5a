"""A gzip'ed record file's images are not all held while the export is read.

Records in a gzip'ed file cannot be read again at an offset, so each image
record carries its image bytes; they go to chunk files as they are read
(`core.record_store`), as every build does, instead of staying in memory
until they are encoded. Peak memory is measured in fresh processes.
"""

import subprocess
import sys
import textwrap

from scripts.benchmarks import tfod_gzip_memory
from tests.builds import CHILD_PEAK_RSS_KIB

IMAGES = 150


def prepare_growth_mb(export, folder, spill: bool) -> int:
  script = textwrap.dedent(f"""
      import contextlib
      from tfds_builders.core import pipeline, record_store
      from tfds_builders.core.exportfs import ExportFiles
      from tfds_builders.tfod import parse
      def peak():
        return {CHILD_PEAK_RSS_KIB} // 1024
      before = peak()
      with (record_store.spilling_to({str(folder)!r}) if {spill}
            else contextlib.nullcontext()):
        prepared = pipeline.prepare(ExportFiles({str(export)!r}),
                                    parse.parse_export)
      assert sum(map(len, prepared.by_split.values())) == {IMAGES}
      print(peak() - before)
      """)
  result = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return int(result.stdout.split()[-1])


def test_gzip_records_images_are_spilled_not_held(tmp_path):
  export = tmp_path / 'export'
  images_mb = tfod_gzip_memory.write_export(export, IMAGES) / 2**20
  held = prepare_growth_mb(export, tmp_path / 'unused', spill=False)
  spilled = prepare_growth_mb(export, tmp_path / 'records', spill=True)
  print(f'images {images_mb:.0f} MB; read into memory {held} MB,'
        f' spilled {spilled} MB')
  assert held > 0.9 * images_mb  # what reading them used to hold
  assert spilled < 0.45 * images_mb  # a 16 MB chunk or two at a time
  assert sorted(p.name for p in (tmp_path / 'records').rglob('*.pkl'))
