;; Stand-ins for the host imports while Wizer snapshots the guest. tic_init never calls
;; the host, so reaching call or reply is a bug: trap. poll is never reached either (the
;; shim skips it while snapshotting), but answers "no interrupt" to be safe.
(module
  (func (export "call") (param i32 i32) (result i32) unreachable)
  (func (export "reply") (param i32) unreachable)
  (func (export "poll") (result i32) i32.const 0))
