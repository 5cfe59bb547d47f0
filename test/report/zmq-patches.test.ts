import assert from 'assert/strict';
import * as path from 'path';
import * as zmq from 'zeromq';

// The kernel's zeromq workarounds (kernel/tslab-diffusion/zmq-patches.js), on the project's zeromq.
const PATCHES = path.resolve(__dirname, '..', '..', '..', 'kernel', 'tslab-diffusion', 'zmq-patches.js');

describe('kernel: zeromq patches', function () {
  this.timeout(20000);

  it('a receive during a bind waits for the bind instead of failing with EBUSY', async () => {
    // Unpatched zeromq 6 refuses it (the kernel died at start-up this way).
    const plain = new zmq.Router({ linger: 0 });
    const plainBind = plain.bind('tcp://127.0.0.1:*');
    assert.throws(
      () => plain.receive(),
      (e: Error & { code?: string }) => e.code === 'EBUSY',
    );
    await plainBind;
    plain.close();

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const patches = require(PATCHES) as { retryReceiveDuringBind(z: typeof zmq): void };
    patches.retryReceiveDuringBind(zmq);
    patches.retryReceiveDuringBind(zmq); // applying twice is harmless
    const router = new zmq.Router({ linger: 0 });
    const dealer = new zmq.Dealer({ linger: 0 });
    try {
      const bound = router.bind('tcp://127.0.0.1:*');
      const received = router.receive();
      await bound;
      dealer.connect(router.lastEndpoint as string);
      await dealer.send('hello');
      const [, body] = await received;
      assert.equal(body.toString(), 'hello');
    } finally {
      router.close();
      dealer.close();
    }
  });
});
