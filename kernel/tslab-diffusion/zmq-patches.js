// Workarounds for tslab 1.0.22 on zeromq 6, applied by launch.js before tslab starts. Each one
// patches the zeromq module tslab loads, process-wide, and is safe to apply twice.
'use strict';

/** The first prototype in `Class`'s chain that defines `name` itself. */
function ownerOf(Class, name) {
  let proto = Class && Class.prototype;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, name)) proto = Object.getPrototypeOf(proto);
  return proto;
}

/** The native binding defines its methods as read-only but configurable. */
function replaceMethod(proto, name, fn) {
  Object.defineProperty(proto, name, { value: fn, writable: false, enumerable: false, configurable: true });
}

/**
 * tslab sends on its sockets without waiting for the previous send, and zeromq 6 refuses a send
 * while one is in flight ("Socket is busy writing", which kills the kernel): a notebook that
 * updates a progress display just before a cell ends can hit it. Sends are queued per socket.
 */
function serializeSends(zmq) {
  const proto = ownerOf(zmq.Publisher, 'send');
  if (!proto || proto.send.__queued) return;
  const send = proto.send;
  const queues = new WeakMap(); // sockets are not extensible: keep each one's queue here
  const queued = function (msg) {
    const next = (queues.get(this) || Promise.resolve()).then(() => send.call(this, msg));
    queues.set(
      this,
      next.catch(() => undefined),
    );
    return next;
  };
  queued.__queued = true;
  replaceMethod(proto, 'send', queued);
}

/**
 * A publisher silently drops messages past its high-water mark (1000): a burst of display updates
 * could lose outputs or the cell's final idle status. tslab creates its IOPub socket with
 * `new zmq.Publisher()`; it gets no mark (0 = none).
 */
function liftPublisherHighWaterMark(zmq) {
  const Original = zmq.Publisher;
  if (!Original || Original.__noHighWaterMark) return;
  class Publisher extends Original {
    constructor(options) {
      super({ sendHighWaterMark: 0, ...options });
    }
  }
  Publisher.__noHighWaterMark = true;
  zmq.Publisher = Publisher;
}

/**
 * tslab starts receiving on its sockets, then binds all five at once. A client that connects as
 * soon as one socket listens can have its first message received while another bind is still in
 * progress; tslab's loop then asks for the next message at once, and zeromq 6 refuses a receive
 * during a bind ("Socket is blocked by a bind or unbind operation", EBUSY), which kills the kernel
 * at start-up (seen once in a clean-clone test run). Such a receive is retried until the bind is done.
 */
function retryReceiveDuringBind(zmq) {
  const proto = ownerOf(zmq.Router, 'receive');
  if (!proto || proto.receive.__retried) return;
  const receive = proto.receive;
  const busy = (err) => err && err.code === 'EBUSY';
  const retried = function () {
    let pending;
    try {
      pending = receive.call(this);
    } catch (err) {
      if (!busy(err)) throw err;
      pending = Promise.reject(err);
    }
    return pending.catch((err) => {
      if (!busy(err) || this.closed) throw err;
      return new Promise((resolve) => setTimeout(resolve, 5)).then(() => retried.call(this));
    });
  };
  retried.__retried = true;
  replaceMethod(proto, 'receive', retried);
}

module.exports = { serializeSends, liftPublisherHighWaterMark, retryReceiveDuringBind };
