// The network benchmark's full-run cases: the direct kernels' variants are there under the names
// the next GPU call selects (docs/PERFORMANCE.md "Waiting for the GPU": its case regex), each once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkCaseName, networkCases } from '../bench/network.ts';
import { candidateCaseName, candidateCases } from '../bench/candidates.ts';

test('network benchmark: the direct variants at 1080p, named as the waiting call selects them', () => {
  const names = [
    ...networkCases(false, false).map(networkCaseName),
    ...candidateCases(false).map(candidateCaseName),
  ];
  assert.equal(new Set(names).size, names.length, 'every case name once');
  // The waiting call's case regex (its command in docs/PERFORMANCE.md).
  const waiting =
    /^(taau |neural-int8 |neural-int8\+again |neural-int8-v3a |neural\+rcas-int8-v3a |neural-int8-v3a\+again |neural-int8(-v3a)?\+features-no-feature-writes |int8 1920x1080( per-node)?( direct .*)?$|network v3a int8 1920x1080( per-node)?$)/;
  const want = [
    'int8 1920x1080',
    'int8 1920x1080 per-node',
    'network v3a int8 1920x1080',
    'network v3a int8 1920x1080 per-node',
    'int8 1920x1080 per-node direct no-product',
    'int8 1920x1080 per-node direct rows 2',
    'int8 1920x1080 direct rows 2',
    'int8 1920x1080 per-node direct split 2',
    'int8 1920x1080 direct split 2',
    'neural+rcas-int8-v3a 1920x1080 performance',
    'neural+rcas-int8-v3a 3840x2160 performance',
  ];
  for (const name of want) {
    assert.ok(names.includes(name), `${name} is a case`);
    assert.match(name, waiting);
  }
  // The network cases it selects are at 1080p only (the frames at 1080p and 4K).
  const selected = names.filter((n) => waiting.test(n));
  assert.ok(
    selected.filter((n) => /^(network v3a )?int8 /.test(n)).every((n) => n.includes('1920x1080')),
  );
  assert.ok(
    selected.some((n) => n.startsWith('taau ')) && selected.length < 60,
    `${selected.length} cases`,
  );
});
