"""The memory benchmarks (Beam driver, gzip'ed TFRecords) at a tiny size,
so they do not rot; their figures are in docs/BENCHMARKS.md."""

import subprocess
import sys

from tests.paths import DUMMY_DATA, PROJECT


def run(*args) -> list[list[str]]:
  """The rows of the markdown table the script prints."""
  result = subprocess.run([sys.executable, '-m', *args], capture_output=True,
                          text=True, timeout=300, check=False, cwd=PROJECT)
  assert result.returncode == 0, result.stderr[-4000:]
  return [[cell.strip() for cell in line.strip('|').split('|')]
          for line in result.stdout.splitlines() if line.startswith('| ')][2:]


def test_beam_driver_measures_both_drivers_and_graphs():
  export = str(DUMMY_DATA / 'voc' / 'labelimg')
  for flag in ([], ['--in_memory']):
    [[name, images, rss, peak, create_kb, chunks_kb]] = run(
        'scripts.benchmarks.beam_driver', export, *flag)
    assert (name, int(images)) == (export, 5)
    before, after = map(float, rss.split(' -> '))
    assert 0 < before <= after <= float(peak)
    # Five records: a Create and the chunk paths weigh about the same.
    assert 0 < float(chunks_kb) and 0 < float(create_kb)


def test_tfod_gzip_memory_builds_its_export(tmp_path):
  [[images, image_mb, seconds, after_imports, peak, growth]] = run(
      'scripts.benchmarks.tfod_gzip_memory', '--images', '3', '--work_dir',
      str(tmp_path))
  assert int(images) == 3 and float(image_mb) > 2  # 3 x ~0.9 MB
  assert float(seconds) > 0
  assert abs(float(peak) - float(after_imports) - float(growth)) <= 1
  assert (tmp_path / 'data_3' / 'tfod_export' / 'boxes').is_dir()
