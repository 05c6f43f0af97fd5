# SPDX-License-Identifier: MIT
# Events through unmodified Sys::Virt (libsys-virt-perl) against the private
# daemons in $VRPC_DIFF_DIR: libvirt's default event loop
# (Sys::Virt::Event::register_default, run_default), or with the argument
# "perl" a loop written in Perl (a Sys::Virt::Event subclass over select(),
# which libvirt drives through virEventRegisterImpl); domain (old and "any"
# registrations, all domains and one), network, storage pool, node device and
# secret events of every kind the daemons raise, deregistration, timers and
# handles of the loop, and the close callback when the daemon is killed.
# run-diff.py runs it on the system's libvirt.so.0 and on the compat
# libraries and compares what it prints: one line per check, "TAG: result".
use strict;
use warnings;
use Sys::Virt;
use Sys::Virt::Event;
use IO::Handle;

my $d = $ENV{VRPC_DIFF_DIR} or die "VRPC_DIFF_DIR is not set\n";
my $loop = $ARGV[0] // "default";
my $test_uri = "test+unix:///default?socket=$d/sys/run/libvirt-sock";
my $storage_uri = "storage+unix:///session?socket=$d/user/run/libvirt-sock";
my $secret_uri = "secret+unix:///session?socket=$d/user/run/libvirt-sock";
$| = 1;

sub section { print "== $_[0]\n"; }

sub err {
    my ($e) = @_;
    return sprintf("ERR code=%d domain=%d", $e->code, $e->domain) if ref($e) && $e->isa('Sys::Virt::Error');
    (my $m = "$e") =~ s/ at \S+ line \d+.*//s;
    return "perl error: $m";
}

# check(TAG, SUB): run SUB, print its result (or the error); returns it
sub check {
    my ($tag, $sub, $show) = @_;
    my $r = eval { $sub->() };
    if ($@) {
        print "$tag: " . err($@) . "\n";
        return undef;
    }
    print "$tag: " . ($show ? $show->($r) : (defined $r ? (ref($r) ? "<" . ref($r) . ">" : $r) : "undef")) . "\n";
    return $r;
}

# ---- a loop of our own in Perl (virEventRegisterImpl)
package PerlLoop;
use parent -norequire, 'Sys::Virt::Event';
use Time::HiRes qw(time);

sub new { return bless { handles => {}, timers => {}, next => 1, free => [] }, shift; }

sub add_handle {
    my ($self, $fd, $events, $cb, $opaque, $ff) = @_;
    my $w = $self->{next}++;
    $self->{handles}{$w} = { fd => $fd, events => $events, cb => $cb, opaque => $opaque, ff => $ff };
    return $w;
}

sub update_handle {
    my ($self, $w, $events) = @_;
    $self->{handles}{$w}{events} = $events if $self->{handles}{$w};
}

sub remove_handle {
    my ($self, $w) = @_;
    my $h = delete $self->{handles}{$w} or return -1;
    # libvirt's contract: the free function runs later, never from inside
    # the removal (its caller may hold the lock the function takes)
    push @{$self->{free}}, $h;
    return 0;
}

sub add_timeout {
    my ($self, $freq, $cb, $opaque, $ff) = @_;
    my $t = $self->{next}++;
    $self->{timers}{$t} = { freq => $freq, cb => $cb, opaque => $opaque, ff => $ff, last => time() };
    return $t;
}

sub update_timeout {
    my ($self, $t, $freq) = @_;
    return unless $self->{timers}{$t};
    $self->{timers}{$t}{freq} = $freq;
    $self->{timers}{$t}{last} = time();
}

sub remove_timeout {
    my ($self, $t) = @_;
    my $h = delete $self->{timers}{$t} or return -1;
    push @{$self->{free}}, $h;
    return 0;
}

# one iteration: wait for the handles up to the nearest timer, dispatch
sub run_once {
    my ($self) = @_;
    while (my $h = shift @{$self->{free}}) {
        $self->_free_callback_opaque($h->{ff}, $h->{opaque});
    }
    my $now = time();
    my $wait = 0.5;
    for my $t (values %{$self->{timers}}) {
        next if $t->{freq} < 0;
        my $due = $t->{last} + $t->{freq} / 1000 - $now;
        $wait = $due if $due < $wait;
    }
    $wait = 0 if $wait < 0;
    my ($r, $w) = ('', '');
    for my $h (values %{$self->{handles}}) {
        vec($r, $h->{fd}, 1) = 1 if $h->{events} & Sys::Virt::Event::HANDLE_READABLE;
        vec($w, $h->{fd}, 1) = 1 if $h->{events} & Sys::Virt::Event::HANDLE_WRITABLE;
    }
    my ($ro, $wo) = ($r, $w);
    my $n = select($ro, $wo, undef, $wait);
    if ($n > 0) {
        for my $id (sort { $a <=> $b } keys %{$self->{handles}}) {
            my $h = $self->{handles}{$id} or next;
            my $ev = 0;
            $ev |= Sys::Virt::Event::HANDLE_READABLE if vec($r, $h->{fd}, 1) && vec($ro, $h->{fd}, 1);
            $ev |= Sys::Virt::Event::HANDLE_WRITABLE if vec($w, $h->{fd}, 1) && vec($wo, $h->{fd}, 1);
            $self->_run_handle_callback($id, $h->{fd}, $ev, $h->{cb}, $h->{opaque}) if $ev;
        }
    }
    $now = time();
    for my $id (sort { $a <=> $b } keys %{$self->{timers}}) {
        my $t = $self->{timers}{$id} or next;
        next if $t->{freq} < 0 || $now < $t->{last} + $t->{freq} / 1000;
        $t->{last} = $now;
        $self->_run_timeout_callback($id, $t->{cb}, $t->{opaque});
    }
}

package main;

my $impl;
section("loop");
if ($loop eq "perl") {
    $impl = PerlLoop->new();
    check("register", sub { Sys::Virt::Event::register($impl); 0 });
} else {
    check("register_default", sub { Sys::Virt::Event::register_default() });
}

sub iterate {
    if ($impl) {
        $impl->run_once();
    } else {
        Sys::Virt::Event::run_default();
    }
}

# the loop's own timers and handles
my $ticks = 0;
my $tick = check("add_timeout", sub { Sys::Virt::Event::add_timeout(50, sub { $ticks++ }) }, sub { $_[0] > 0 ? "id" : $_[0] });
my %fired;
my $once;
$once = check("add_timeout[self-removing]", sub {
    Sys::Virt::Event::add_timeout(10, sub { $fired{once}++; Sys::Virt::Event::remove_timeout($once); })
}, sub { $_[0] > 0 ? "id" : $_[0] });
my $off = check("add_timeout[disabled]", sub { Sys::Virt::Event::add_timeout(-1, sub { $fired{off}++ }) },
                sub { $_[0] > 0 ? "id" : $_[0] });
pipe(my $rd, my $wr) or die "pipe: $!";
$wr->autoflush(1);
my $got = "";
my $hw = check("add_handle[pipe]", sub {
    Sys::Virt::Event::add_handle(fileno($rd), Sys::Virt::Event::HANDLE_READABLE, sub {
        my ($watch, $fd, $events) = @_;
        sysread($rd, my $buf, 64);
        $got .= $buf;
        $fired{handle_events} = $events;
    })
}, sub { $_[0] > 0 ? "id" : $_[0] });
syswrite($wr, "ping");

# run the loop until COND is true or N ticks of 50 ms have passed
sub pump {
    my ($cond, $n) = @_;
    my $end = $ticks + $n;
    while ($ticks < $end) {
        iterate();
        return 1 if $cond && $cond->();
    }
    return 0;
}
pump(sub { $got eq "ping" && $fired{once} }, 100);
check("handle", sub { "$got events=" . ($fired{handle_events} // 'none') });
check("self-removing timeout", sub { $fired{once} // 0 });
pump(undef, 4);
check("self-removing timeout, later", sub { $fired{once} // 0 });
check("disabled timeout", sub { $fired{off} // 0 });
check("update_timeout[enable]", sub { Sys::Virt::Event::update_timeout($off, 20); 0 });
pump(sub { $fired{off} }, 40);
check("enabled timeout fired", sub { $fired{off} ? "yes" : "no" });
check("remove_timeout", sub { Sys::Virt::Event::remove_timeout($off) });
check("update_handle[off]", sub { Sys::Virt::Event::update_handle($hw, 0); 0 });
syswrite($wr, "pong");
pump(undef, 4);
check("handle while off", sub { $got });
check("update_handle[on]", sub { Sys::Virt::Event::update_handle($hw, Sys::Virt::Event::HANDLE_READABLE); 0 });
pump(sub { $got eq "pingpong" }, 40);
check("handle again", sub { $got });
check("remove_handle", sub { Sys::Virt::Event::remove_handle($hw) });

# ---- events
my @events;
sub note { push @events, join(" ", @_); }

# run the loop until WANT events came (or 5 s), then 300 ms more for any
# extra one; print them in order
sub collect {
    my ($tag, $want) = @_;
    pump(sub { @events >= $want }, 100);
    pump(undef, 6);
    print "$tag events: " . (@events ? join(" | ", @events) : "none") . "\n";
    @events = ();
}

section("domain");
my $conn = check("open test", sub { Sys::Virt->new(uri => $test_uri) }, sub { "connected" });
exit 0 unless $conn;
my $dom = $conn->get_domain_by_name("test");
my @ids;
check("domain_event_register", sub {
    $conn->domain_event_register(sub { my ($c, $dm, $ev, $det) = @_; note("old", $dm->get_name, $ev, $det); 0 });
    0
});
push @ids, check("register_any[lifecycle]", sub {
    $conn->domain_event_register_any(undef, Sys::Virt::Domain::EVENT_ID_LIFECYCLE, sub {
        my ($c, $dm, $ev, $det) = @_;
        note("lifecycle", $dm->get_name, $ev, $det);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
my $one = check("register_any[lifecycle, test]", sub {
    $conn->domain_event_register_any($dom, Sys::Virt::Domain::EVENT_ID_LIFECYCLE, sub {
        my ($c, $dm, $ev, $det) = @_;
        note("test-only", $dm->get_name, $ev, $det);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
push @ids, check("register_any[metadata]", sub {
    $conn->domain_event_register_any(undef, Sys::Virt::Domain::EVENT_ID_METADATA_CHANGE, sub {
        my ($c, $dm, $type, $ns) = @_;
        note("metadata", $dm->get_name, $type, $ns // 'undef');
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
push @ids, check("register_any[reboot]", sub {
    $conn->domain_event_register_any(undef, Sys::Virt::Domain::EVENT_ID_REBOOT, sub {
        my ($c, $dm) = @_;
        note("reboot", $dm->get_name);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
check("register_any[bad id]", sub { $conn->domain_event_register_any(undef, 9999, sub { }) });

check("suspend", sub { $dom->suspend(); 0 });
collect("suspend", 3);
check("resume", sub { $dom->resume(); 0 });
collect("resume", 3);
check("set_metadata", sub { $dom->set_metadata(Sys::Virt::Domain::METADATA_DESCRIPTION, "described", undef, undef, 0); 0 });
collect("set_metadata", 1);
check("reboot", sub { $dom->reboot(0); 0 });
collect("reboot", 0);
check("destroy", sub { $dom->destroy(); 0 });
collect("destroy", 3);
check("deregister_any[test]", sub { $conn->domain_event_deregister_any($one); 0 });
check("deregister_any[test, again]", sub { $conn->domain_event_deregister_any($one); 0 });
check("create", sub { $dom->create(); 0 });
collect("create", 2);
my $xml = "<domain type='test'><name>ev-guest</name><uuid>5c1e7a39-2b8d-4f60-9a13-7d2e4c6b8f01</uuid>"
    . "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
my $g = check("define_domain", sub { $conn->define_domain($xml) });
collect("define", 2);
if ($g) {
    check("guest create", sub { $g->create(); 0 });
    collect("guest create", 2);
    check("guest shutdown", sub { $g->shutdown(); 0 });
    collect("guest shutdown", 2);
    check("guest undefine", sub { $g->undefine(); 0 });
    collect("guest undefine", 2);
}
check("domain_event_deregister", sub { $conn->domain_event_deregister(); 0 });
check("suspend[old gone]", sub { $dom->suspend(); 0 });
collect("suspend[old gone]", 1);
check("deregister_any[all]", sub { $conn->domain_event_deregister_any($_) for @ids; 0 });
check("resume[none left]", sub { $dom->resume(); 0 });
collect("resume[none left]", 0);

section("network");
my $nid = check("network_event_register_any", sub {
    $conn->network_event_register_any(undef, Sys::Virt::Network::EVENT_ID_LIFECYCLE, sub {
        my ($c, $n, $ev, $det) = @_;
        note("network", $n->get_name, $ev, $det);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
my $net = $conn->get_network_by_name("default");
check("network destroy", sub { $net->destroy(); 0 });
collect("network destroy", 1);
check("network create", sub { $net->create(); 0 });
collect("network create", 1);
my $nxml = "<network><name>ev-net</name><uuid>8a3f1c2e-6d4b-4a7e-9c0f-2b1d3e5f7a09</uuid>"
    . "<bridge name='evbr0'/></network>";
my $n2 = check("define_network", sub { $conn->define_network($nxml) });
collect("define_network", 1);
if ($n2) {
    check("ev-net undefine", sub { $n2->undefine(); 0 });
    collect("ev-net undefine", 1);
}
check("network_event_deregister_any", sub { $conn->network_event_deregister_any($nid); 0 });

section("storage pool (test driver)");
my @pids;
push @pids, check("storage_pool_event_register_any[lifecycle]", sub {
    $conn->storage_pool_event_register_any(undef, Sys::Virt::StoragePool::EVENT_ID_LIFECYCLE, sub {
        my ($c, $p, $ev, $det) = @_;
        note("pool", $p->get_name, $ev, $det);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
push @pids, check("storage_pool_event_register_any[refresh]", sub {
    $conn->storage_pool_event_register_any(undef, Sys::Virt::StoragePool::EVENT_ID_REFRESH, sub {
        my ($c, $p) = @_;
        note("refresh", $p->get_name);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
my $pool = $conn->get_storage_pool_by_name("default-pool");
check("pool refresh", sub { $pool->refresh(0); 0 });
collect("pool refresh", 1);
check("pool destroy", sub { $pool->destroy(); 0 });
collect("pool destroy", 1);
check("pool create", sub { $pool->create(); 0 });
collect("pool create", 1);
check("storage_pool_event_deregister_any", sub { $conn->storage_pool_event_deregister_any($_) for @pids; 0 });

section("node device (test driver)");
my $did = check("node_device_event_register_any", sub {
    $conn->node_device_event_register_any(undef, Sys::Virt::NodeDevice::EVENT_ID_LIFECYCLE, sub {
        my ($c, $dv, $ev, $det) = @_;
        note("nodedev", $ev, $det);
    })
}, sub { $_[0] >= 0 ? "id" : $_[0] });
my $dxml = "<device><parent>scsi_host1</parent><capability type='scsi_host'><capability type='fc_host'>"
    . "<wwnn>2000000012341234</wwnn><wwpn>1000000012341234</wwpn></capability></capability></device>";
my $dev = check("create_node_device", sub { $conn->create_node_device($dxml) });
collect("create_node_device", 1);
if ($dev) {
    check("node device destroy", sub { $dev->destroy(); 0 });
    collect("node device destroy", 1);
}
check("node_device_event_deregister_any", sub { $conn->node_device_event_deregister_any($did); 0 });

section("storage pool (storage driver)");
my $st = check("open storage", sub { Sys::Virt->new(uri => $storage_uri) }, sub { "connected" });
if ($st) {
    my $sid = check("storage_pool_event_register_any", sub {
        $st->storage_pool_event_register_any(undef, Sys::Virt::StoragePool::EVENT_ID_LIFECYCLE, sub {
            my ($c, $p, $ev, $det) = @_;
            note("pool", $p->get_name, $ev, $det);
        })
    }, sub { $_[0] >= 0 ? "id" : $_[0] });
    my $pxml = "<pool type='dir'><name>evp</name><uuid>1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a55</uuid>"
        . "<target><path>$d/user/pool/evp</path></target></pool>";
    my $p = check("define_storage_pool", sub { $st->define_storage_pool($pxml) });
    collect("define_storage_pool", 1);
    if ($p) {
        check("pool build", sub { $p->build(0); 0 });
        collect("pool build", 0);
        check("pool create", sub { $p->create(); 0 });
        collect("pool create", 1);
        check("pool destroy", sub { $p->destroy(); 0 });
        collect("pool destroy", 1);
        check("pool undefine", sub { $p->undefine(); 0 });
        collect("pool undefine", 1);
    }
    check("storage_pool_event_deregister_any", sub { $st->storage_pool_event_deregister_any($sid); 0 });
}

section("secret");
my $sc = check("open secret", sub { Sys::Virt->new(uri => $secret_uri) }, sub { "connected" });
if ($sc) {
    my @sids;
    push @sids, check("secret_event_register_any[lifecycle]", sub {
        $sc->secret_event_register_any(undef, Sys::Virt::Secret::EVENT_ID_LIFECYCLE, sub {
            my ($c, $s, $ev, $det) = @_;
            note("secret", $s->get_uuid_string, $ev, $det);
        })
    }, sub { $_[0] >= 0 ? "id" : $_[0] });
    push @sids, check("secret_event_register_any[value]", sub {
        $sc->secret_event_register_any(undef, Sys::Virt::Secret::EVENT_ID_VALUE_CHANGED, sub {
            my ($c, $s) = @_;
            note("value", $s->get_uuid_string);
        })
    }, sub { $_[0] >= 0 ? "id" : $_[0] });
    my $s = check("define_secret", sub {
        $sc->define_secret("<secret ephemeral='no' private='no'><uuid>2e4f6a8c-0b1d-4e3f-8a5c-7e9b1d3f5a77</uuid>"
            . "<usage type='ceph'><name>evs</name></usage></secret>")
    });
    collect("define_secret", 1);
    if ($s) {
        check("set_value", sub { $s->set_value("abc"); 0 });
        collect("set_value", 1);
        check("undefine", sub { $s->undefine(); 0 });
        collect("undefine", 1);
    }
    check("secret_event_deregister_any", sub { $sc->secret_event_deregister_any($_) for @sids; 0 });
}

section("close");
my $reason;
check("register_close_callback", sub {
    $conn->register_close_callback(sub { my ($c, $r) = @_; $reason = $r; });
    0
});
check("register_close_callback[again]", sub { $conn->register_close_callback(sub { }); 0 });
check("is_alive", sub { $conn->is_alive() });
# the test-driver daemon goes away: the loop reports the closed connection
open(my $pf, '<', "$d/sys/pid") or die "no pid file: $!";
my $pid = <$pf>;
close($pf);
chomp $pid;
kill 'TERM', $pid;
pump(sub { defined $reason }, 200);
check("close callback reason", sub { $reason // 'none' });
check("is_alive[after]", sub { $conn->is_alive() });
check("get_hostname[after]", sub { $conn->get_hostname(); "answered" });
check("unregister_close_callback", sub { $conn->unregister_close_callback(); 0 });
check("remove_timeout[tick]", sub { Sys::Virt::Event::remove_timeout($tick) });

if ($ENV{VRPC_DIFF_MAPS}) {
    open(my $m, '<', '/proc/self/maps');
    my %s;
    while (<$m>) { $s{(split)[-1]} = 1 if m{/libvirt.*\.so}; }
    open(my $o, '>', $ENV{VRPC_DIFF_MAPS}) or die;
    print $o join(' ', sort keys %s), "\n";
}
exit 0;
