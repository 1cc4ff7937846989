# Time to first byte, as a libtorrent leecher with its default connection
# settings sees it (encryption "enabled": it tries MSE first on outgoing
# connections; uTP is turned off because the seeders compared speak TCP
# only here). For each round it adds the torrent afresh, calls
# connect_peer(SEED) and reports, in seconds, the time from connect_peer
# and from its first outgoing connection (peer_connect_alert) to the
# first payload byte, and how many connections it opened.
# Usage: lt_firstbyte.py FILE.torrent HOST:PORT ROUNDS TMPDIR
import json
import os
import sys
import time

import libtorrent as lt

torrent, peer, rounds, tmp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
host, port = peer.rsplit(':', 1)
ses = lt.session({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
    'dht_bootstrap_nodes': '',
    'enable_outgoing_utp': False, 'enable_incoming_utp': False,
    'allow_multiple_connections_per_ip': True,
    'alert_mask': lt.alert_category.connect | lt.alert_category.peer | lt.alert_category.error,
})
ti = lt.torrent_info(torrent)
for i in range(rounds):
    atp = lt.add_torrent_params()
    atp.ti = ti
    atp.save_path = os.path.join(tmp, str(i))
    atp.flags &= ~(lt.torrent_flags.paused | lt.torrent_flags.auto_managed)
    h = ses.add_torrent(atp)
    while h.status().state != lt.torrent_status.states.downloading:
        time.sleep(0.001)
    ses.pop_alerts()
    t0 = time.monotonic()
    h.connect_peer((host, int(port)))
    first_connect, connects, disconnects = None, 0, 0
    while True:
        for a in ses.pop_alerts():
            if isinstance(a, lt.peer_connect_alert):
                connects += 1
                if first_connect is None:
                    first_connect = time.monotonic()
            elif isinstance(a, lt.peer_disconnected_alert):
                disconnects += 1
        if h.status().total_payload_download > 0:
            t1 = time.monotonic()
            break
        if time.monotonic() - t0 > 30:
            print(json.dumps({'error': 'no payload in 30 s'}), flush=True)
            sys.exit(1)
        time.sleep(0.001)
    print(json.dumps({'from_connect_peer': t1 - t0,
                      'from_connect': t1 - (first_connect or t0),
                      'connects': connects, 'disconnects': disconnects}), flush=True)
    ses.remove_torrent(h, lt.session.delete_files)
    time.sleep(0.2)
