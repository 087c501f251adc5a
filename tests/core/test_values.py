"""tfds_builders.core.values: every number and flag is checked on entry."""

import math

import numpy as np
import pytest

from tfds_builders.core import values


@pytest.mark.parametrize('text, expected', [
    ('10', 10.0), (' 3.5 ', 3.5), ('-2', -2.0), ('1e3', 1000.0), ('.5', 0.5),
    ('7.', 7.0)])
def test_decimal_text(text, expected):
  assert values.number(text, '<x>', text=True) == expected


@pytest.mark.parametrize('value, why', [
    ('1_0', 'not a decimal number'), ('nan', 'not a decimal number'),
    ('inf', 'not a decimal number'), ('0x10', 'not a decimal number'),
    ('', 'not a decimal number'), ('1e400', 'not finite'),
    (None, 'missing'), ('3e8', 'beyond'),
])
def test_bad_text_numbers(value, why):
  with pytest.raises(values.BadValue, match=why) as e:
    values.number(value, '<xmin>', text=True, file='a.xml', item='object #1')
  assert str(e.value).startswith('a.xml: object #1: <xmin> ')


@pytest.mark.parametrize('value, why', [
    ('12', 'is a str, not a number'), (True, 'is a bool'),
    (math.nan, 'not finite'), (math.inf, 'not finite'),
    (10**400, 'too large'), ([1], 'is a list'), (1e9, 'beyond'),
])
def test_bad_json_numbers(value, why):
  with pytest.raises(values.BadValue, match=why):
    values.number(value, 'bbox[0]')


def test_json_numbers_pass():
  assert values.number(3, 'x') == 3.0 and values.number(np.float32(2.5),
                                                        'x') == 2.5


@pytest.mark.parametrize('value, expected', [
    (0, False), (1, True), (True, True), (False, False), (None, False),
    (0.0, False)])
def test_flags(value, expected):
  assert values.flag(value, 'iscrowd') is expected


@pytest.mark.parametrize('value', ['0', '1', 2, -1, 'yes', 0.5])
def test_bad_json_flags(value):
  with pytest.raises(values.BadValue, match='not 0/1 or true/false'):
    values.flag(value, 'iscrowd')


@pytest.mark.parametrize('text, expected', [
    ('0', False), ('1', True), ('true', True), (' False ', False),
    ('Unspecified', False)])  # makesense.ai's 'not set'
def test_text_flags(text, expected):
  assert values.flag(text, '<difficult>', text=True) is expected


def test_integers():
  assert values.integer('640', 'width', text=True) == 640
  assert values.integer(480.0, 'height') == 480
  for bad in ('1_0', '4.5', 4.5, -1, 'inf', 10**30):
    with pytest.raises(values.BadValue):
      values.integer(bad, 'width', text=isinstance(bad, str))


def test_image_size():
  assert values.image_size('640', '480', '<size>', text=True) == (640, 480)
  assert values.image_size(0, 0, 'image') is None
  assert values.image_size(None, None, 'image') is None
  with pytest.raises(values.BadValue):
    values.image_size('inf', '480', '<size>', text=True)


def test_coordinates_are_held_to_the_image():
  checked = values.check_coordinates([1, 2, 3, 4, 5, 6], 100, 80, 'polygon')
  assert checked.dtype == np.float64 and checked.tolist() == [1, 2, 3, 4, 5, 6]
  values.check_coordinates([-900, 0, 1000, 800], 100, 80, 'polygon')
  for bad, why in (([1, 2, 3], 'odd number'), ([1, np.nan], 'not finite'),
                   ([3e8, 1], 'far outside'), ([1, -1e6], 'far outside'),
                   (['a', 1], 'not a flat list of numbers'),
                   (['1_0', '1'], 'not a flat list of numbers'),
                   ([True, 1], 'not a flat list of numbers'),
                   ([[1, 1], [10, 1], [10, 10]], 'not a flat list of numbers'),
                   (np.array([[1, 1], [10, 1]]), 'not a flat list of numbers'),
                   ([10**400, 1], 'too large')):
    with pytest.raises(values.BadValue, match=why):
      values.check_coordinates(bad, 100, 80, 'polygon')
