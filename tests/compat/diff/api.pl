# SPDX-License-Identifier: MIT
# The differential transcript through unmodified Sys::Virt (libsys-virt-perl)
# against the private daemons in $VRPC_DIFF_DIR; run-diff.py runs it on the
# system's libvirt.so.0 and on the compat libraries and compares what it
# prints. Rules (docs/compat.md): one line per check, "TAG: result"; an
# error prints code and domain, and the message when the daemon sent it
# (check() with $client false); values that change from run to run are
# masked with '*'.
use strict;
use warnings;
use Sys::Virt;

my $d = $ENV{VRPC_DIFF_DIR} or die "VRPC_DIFF_DIR is not set\n";
my $test_uri = "test+unix:///default?socket=$d/sys/run/libvirt-sock";
my $ro_uri = "test+unix:///default?socket=$d/sys/run/libvirt-sock-ro";
my $storage_uri = "storage+unix:///session?socket=$d/user/run/libvirt-sock";
my $secret_uri = "secret+unix:///session?socket=$d/user/run/libvirt-sock";
$| = 1;

sub section { print "== $_[0]\n"; }

sub fmt {
    my ($v) = @_;
    return "undef" unless defined $v;
    if (ref($v) eq 'ARRAY') {
        # lists of objects in name order (the daemon's order is a hash's)
        my @items = map { fmt($_) } @$v;
        @items = sort @items if @$v && ref($v->[0]) && ref($v->[0]) =~ /^Sys::Virt::/;
        return "[" . join(", ", @items) . "]";
    }
    if (ref($v) eq 'HASH') {
        return "{" . join(", ", map { "$_: " . fmt($v->{$_}) } sort keys %$v) . "}";
    }
    if (ref($v) && $v->can('get_name')) {
        return "<" . ref($v) . " " . $v->get_name() . ">";
    }
    if (ref($v) && $v->can('get_uuid_string')) {
        return "<" . ref($v) . " " . $v->get_uuid_string() . ">";
    }
    return "<" . ref($v) . ">" if ref($v);
    $v =~ s/\n/\\n/g;
    return "'$v'";
}

# check(TAG, CLIENT, SUB [, SHOW]): run SUB in list context, print the
# result or the error.
sub check {
    my ($tag, $client, $sub, $show) = @_;
    my @r = eval { $sub->() };
    if (my $e = $@) {
        if (ref($e) && $e->isa('Sys::Virt::Error')) {
            my $s = sprintf("ERR code=%d domain=%d", $e->code, $e->domain);
            if (!$client) {
                (my $m = $e->message // '') =~ s/\n/\\n/g;
                $s .= " msg=$m";
            }
            print "$tag: $s\n";
        } else {
            (my $m = "$e") =~ s/ at \S+ line \d+.*//s;
            print "$tag: perl error: $m\n";
        }
        return undef;
    }
    my $v = @r == 1 ? $r[0] : \@r;
    print "$tag: " . ($show ? $show->($v) : fmt($v)) . "\n";
    return $v;
}

my $dom_uuid = "5dea22b3-1d52-d8f3-2516-782e98ab3fa0";
my $dom_xml = <<"EOF";
<domain type='test'>
  <name>pd1</name>
  <uuid>$dom_uuid</uuid>
  <memory>65536</memory>
  <vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>
EOF

section("open");
my $conn = check("new", 1, sub { Sys::Virt->new(uri => $test_uri) }, sub { "connected" });
my $ro = check("new[readonly]", 1, sub { Sys::Virt->new(uri => $ro_uri, readonly => 1) }, sub { "connected" });
check("new[no socket]", 1, sub { Sys::Virt->new(uri => "test+unix:///default?socket=$d/none") }, sub { "connected" });
exit 0 unless $conn;

section("connect");
check("get_type", 0, sub { $conn->get_type() });
check("get_version", 0, sub { $conn->get_version() });
check("get_uri", 0, sub { $conn->get_uri() });
check("get_max_vcpus", 0, sub { $conn->get_max_vcpus("test") });
check("get_node_info", 0, sub { $conn->get_node_info() });
check("get_node_free_memory", 0, sub { $conn->get_node_free_memory() });
check("get_node_cells_free_memory", 0, sub { [$conn->get_node_cells_free_memory(0, 2)] });
check("get_node_security_model", 0, sub { $conn->get_node_security_model() });
check("get_node_cpu_stats", 0, sub { $conn->get_node_cpu_stats(-1) });
check("get_node_memory_stats", 0, sub { $conn->get_node_memory_stats(-1) });
check("get_sysinfo", 0, sub { $conn->get_sysinfo() });
check("is_secure", 0, sub { $conn->is_secure() });
check("is_encrypted", 0, sub { $conn->is_encrypted() });
check("is_alive", 0, sub { $conn->is_alive() });
check("get_capabilities", 0, sub { length($conn->get_capabilities()) > 100 ? "xml" : "short" });

section("domains");
check("num_of_domains", 0, sub { $conn->num_of_domains() });
check("list_domain_ids", 0, sub { [$conn->list_domain_ids(10)] });
check("list_all_domains", 0, sub { [$conn->list_all_domains()] });
check("list_defined_domain_names", 0, sub { [$conn->list_defined_domain_names(10)] });
my $dom = check("get_domain_by_name", 0, sub { $conn->get_domain_by_name("test") });
check("get_domain_by_name[missing]", 0, sub { $conn->get_domain_by_name("nope") });
check("get_domain_by_id", 0, sub { $conn->get_domain_by_id(1) });
check("get_domain_by_uuid", 0, sub { $conn->get_domain_by_uuid("6695eb01-f6a4-8304-79aa-97f2502e193f") });
check("get_domain_by_uuid[invalid]", 1, sub { $conn->get_domain_by_uuid("zz") });
if ($dom) {
    check("get_id", 0, sub { $dom->get_id() });
    check("get_uuid_string", 0, sub { $dom->get_uuid_string() });
    check("get_os_type", 0, sub { $dom->get_os_type() });
    check("get_info", 0, sub { my $i = $dom->get_info(); $i->{cpuTime} = '*'; $i });
    check("get_state", 0, sub { [$dom->get_state()] });
    check("get_max_memory", 0, sub { $dom->get_max_memory() });
    check("get_max_vcpus", 0, sub { $dom->get_max_vcpus() });
    check("get_xml_description", 0, sub { $dom->get_xml_description() });
    check("get_scheduler_parameters", 0, sub { $dom->get_scheduler_parameters() });
    check("get_memory_parameters", 0, sub { $dom->get_memory_parameters() });
    check("get_blkio_parameters", 0, sub { $dom->get_blkio_parameters() });
    check("get_numa_parameters", 0, sub { $dom->get_numa_parameters() });
    check("get_block_iotune", 0, sub { $dom->get_block_iotune("vda") });
    check("get_vcpus", 0, sub { my @v = $dom->get_vcpus(); "count " . scalar(@v) });
    check("get_security_label", 0, sub { $dom->get_security_label() });
    check("get_autostart", 0, sub { $dom->get_autostart() });
    check("get_hostname", 0, sub { $dom->get_hostname() });
    check("get_metadata[missing]", 0, sub { $dom->get_metadata(Sys::Virt::Domain::METADATA_TITLE, undef) });
    check("set_metadata", 0, sub { $dom->set_metadata(Sys::Virt::Domain::METADATA_TITLE, "t1", undef, undef) });
    check("get_metadata", 0, sub { $dom->get_metadata(Sys::Virt::Domain::METADATA_TITLE, undef) });
    check("set_memory", 0, sub { $dom->set_memory(1048576) });
    check("set_scheduler_parameters", 0, sub { $dom->set_scheduler_parameters({weight => 20}) });
    check("get_scheduler_parameters[after]", 0, sub { $dom->get_scheduler_parameters() });
    check("memory_stats", 0, sub { $dom->memory_stats() });
    check("get_disk_errors", 0, sub { [$dom->get_disk_errors()] });
    check("get_fs_info", 0, sub { [$dom->get_fs_info()] });
    check("get_interface_addresses", 0, sub { [$dom->get_interface_addresses(0)] });
    check("get_job_info", 0, sub { $dom->get_job_info() });
    check("get_time", 0, sub { my @t = $dom->get_time(); "got " . scalar(@t) });
    check("suspend", 0, sub { $dom->suspend() });
    check("resume", 0, sub { $dom->resume() });
    check("set_vcpus[zero]", 1, sub { $dom->set_vcpus(0) });
    check("get_xml_description[secure]", 0, sub { length($dom->get_xml_description(Sys::Virt::Domain::XML_SECURE)) > 0 });
    check("get_xml_description[bad flags]", 0, sub { $dom->get_xml_description(1 << 30) });
}
my $pd = check("define_domain", 0, sub { $conn->define_domain($dom_xml) });
check("define_domain[bad xml]", 0, sub { $conn->define_domain("<domain") });
if ($pd) {
    check("create", 0, sub { $pd->create() });
    check("get_id[created]", 0, sub { $pd->get_id() });
    check("snapshot_create", 0, sub { $pd->create_snapshot("<domainsnapshot><name>ps1</name></domainsnapshot>") });
    check("list_all_snapshots", 0, sub { [$pd->list_all_snapshots()] });
    check("num_of_snapshots", 0, sub { $pd->num_of_snapshots() });
    my $s = check("get_snapshot_by_name", 0, sub { $pd->get_snapshot_by_name("ps1") });
    if ($s) {
        check("snapshot is_current", 0, sub { $s->is_current() });
        check("snapshot has_metadata", 0, sub { $s->has_metadata() });
        check("snapshot get_parent", 0, sub { $s->get_parent() });
        check("snapshot delete", 0, sub { $s->delete() });
    }
    check("get_snapshot_by_name[missing]", 0, sub { $pd->get_snapshot_by_name("ps1") });
    check("destroy", 0, sub { $pd->destroy() });
    check("undefine", 0, sub { $pd->undefine() });
    check("get_info[undefined]", 0, sub { $pd->get_info() });
}

section("networks");
check("list_all_networks", 0, sub { [$conn->list_all_networks()] });
check("num_of_networks", 0, sub { $conn->num_of_networks() });
my $net = check("get_network_by_name", 0, sub { $conn->get_network_by_name("default") });
check("get_network_by_name[missing]", 0, sub { $conn->get_network_by_name("nope") });
if ($net) {
    check("net get_uuid_string", 0, sub { $net->get_uuid_string() });
    check("net get_bridge_name", 0, sub { $net->get_bridge_name() });
    check("net get_xml_description", 0, sub { $net->get_xml_description() });
    check("net is_active", 0, sub { $net->is_active() });
    check("net get_autostart", 0, sub { $net->get_autostart() });
    check("net list_all_ports", 0, sub { [$net->list_all_ports()] });
}

section("interfaces-devices");
check("list_all_interfaces", 0, sub { [$conn->list_all_interfaces()] });
my $if = check("get_interface_by_name", 0, sub { $conn->get_interface_by_name("eth1") });
check("get_interface_by_mac", 0, sub { $conn->get_interface_by_mac("aa:bb:cc:dd:ee:ff") });
if ($if) {
    check("iface get_mac", 0, sub { $if->get_mac() });
    check("iface is_active", 0, sub { $if->is_active() });
}
check("list_all_node_devices", 0, sub { [$conn->list_all_node_devices()] });
check("num_of_node_devices", 0, sub { $conn->num_of_node_devices(undef) });
my $nd = check("get_node_device_by_name", 0, sub { $conn->get_node_device_by_name("computer") });
if ($nd) {
    check("dev get_xml_description", 0, sub { $nd->get_xml_description() });
    check("dev list_capabilities", 0, sub { [$nd->list_capabilities()] });
    check("dev get_parent", 0, sub { $nd->get_parent() });
}
check("list_all_nwfilters", 0, sub { [$conn->list_all_nwfilters()] });
check("get_nwfilter_by_name", 0, sub { $conn->get_nwfilter_by_name("x") });

section("read-only");
if ($ro) {
    my $rd = check("get_domain_by_name[ro]", 0, sub { $ro->get_domain_by_name("test") });
    check("suspend[ro]", 1, sub { $rd->suspend() }) if $rd;
    check("define_domain[ro]", 1, sub { $ro->define_domain($dom_xml) });
}

section("storage");
my $st = check("new[storage]", 1, sub { Sys::Virt->new(uri => $storage_uri) }, sub { "connected" });
if ($st) {
    my $pool_xml = "<pool type='dir'><name>pp1</name><uuid>3f0e5d4e-8a1c-4b1e-9d0f-3c5a7b9e1d02</uuid>"
        . "<target><path>$d/user/pool/pp1</path></target></pool>";
    my $p = check("create_storage_pool", 0, sub { $st->create_storage_pool($pool_xml) });
    check("create_storage_pool[again]", 0, sub { $st->create_storage_pool($pool_xml) });
    if ($p) {
        check("pool get_info", 0, sub { my $i = $p->get_info(); $i->{$_} = '*' for qw(allocation available); $i });
        my $v = check("create_volume", 0,
            sub { $p->create_volume("<volume><name>pv.img</name><capacity>4096</capacity></volume>") });
        check("list_all_volumes", 0, sub { [$p->list_all_volumes()] });
        if ($v) {
            check("vol get_path", 0, sub { $v->get_path() });
            check("vol get_info", 0, sub { my $i = $v->get_info(); $i->{allocation} = '*'; $i });
            check("vol delete", 0, sub { $v->delete() });
        }
        check("pool destroy", 0, sub { $p->destroy() });
    }
}

section("secrets");
my $sc = check("new[secret]", 1, sub { Sys::Virt->new(uri => $secret_uri) }, sub { "connected" });
if ($sc) {
    my $s = check("define_secret", 0, sub {
        $sc->define_secret("<secret ephemeral='no' private='no'><uuid>7f3c2a1e-5b4d-4e7f-8a9b-0c1d2e3f4a03</uuid>"
            . "<usage type='ceph'><name>pcs</name></usage></secret>") });
    if ($s) {
        check("secret set_value", 0, sub { $s->set_value("abc") });
        check("secret get_value", 0, sub { $s->get_value() });
        check("secret get_usage_id", 0, sub { $s->get_usage_id() });
        check("get_secret_by_usage", 0, sub { $sc->get_secret_by_usage(Sys::Virt::Secret::USAGE_TYPE_CEPH, "pcs") });
        check("secret undefine", 0, sub { $s->undefine() });
    }
    check("get_secret_by_uuid[missing]", 0, sub { $sc->get_secret_by_uuid("7f3c2a1e-5b4d-4e7f-8a9b-0c1d2e3f4a03") });
}

if ($ENV{VRPC_DIFF_MAPS}) {
    open(my $in, '<', '/proc/self/maps') or die;
    open(my $out, '>', $ENV{VRPC_DIFF_MAPS}) or die;
    my %seen;
    while (<$in>) {
        my $f = (split)[-1];
        print $out "$f\n" if $f =~ m{/libvirt.*\.so} && !$seen{$f}++;
    }
}
