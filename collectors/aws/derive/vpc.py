"""EC2 networking of one region: VPCs (with flow logs), internet gateways, route tables, subnets (public when
their route table sends 0.0.0.0/0 to an internet gateway), security groups (in use by an interface or an
instance) and network ACLs."""
from __future__ import annotations

from mlps_scan.models import EvidenceRecord, EvidenceStatus

from ..partition import arn
from .context import ANY_IPV4, ANY_IPV6, AccountEvidence, evidence_ids, name_tag, ok, tag_map, why

NACL_PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp"}


def _items(record: EvidenceRecord | None, key: str) -> list[dict]:
    return (record.answer or {}).get(key, []) if record else []


def derive_network(account: AccountEvidence, region: str, scope: str) -> None:
    """The listings are looked up first, in this order, so coverage reads the same for every region."""
    vpcs = account.listed(["aws.ec2.vpc"], scope, "ec2:DescribeVpcs", region)
    subnets = account.listed(["aws.ec2.subnet"], scope, "ec2:DescribeSubnets", region)
    route_tables = account.listed(["aws.ec2.route_table"], scope, "ec2:DescribeRouteTables", region)
    gateways = account.listed(["aws.ec2.internet_gateway"], scope, "ec2:DescribeInternetGateways", region)
    groups = account.listed(["aws.ec2.security_group"], scope, "ec2:DescribeSecurityGroups", region)
    acls = account.listed(["aws.ec2.network_acl"], scope, "ec2:DescribeNetworkAcls", region)
    derive_vpcs(account, region, scope, vpcs)
    derive_internet_gateways(account, region, scope, gateways)
    routing = derive_route_tables(account, region, scope, route_tables)
    derive_subnets(account, region, scope, subnets, route_tables, routing)
    derive_security_groups(account, region, scope, groups)
    derive_network_acls(account, region, scope, acls)


DEFAULT_FLOW_LOG_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
                           "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")


def derive_vpcs(account: AccountEvidence, region: str, scope: str, vpcs: EvidenceRecord | None) -> None:
    flow_logs = account.get("ec2:DescribeFlowLogs", region)
    active = [f for f in (flow_logs.answer or {}).get("FlowLogs", []) if f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"] \
        if ok(flow_logs) else []
    query_logs = account.get("route53resolver:ListResolverQueryLogConfigAssociations", region)
    logged_vpcs = {a.get("ResourceId") for a in (query_logs.answer or {}).get("ResolverQueryLogConfigAssociations", [])
                   if a.get("Status", "ACTIVE") in ("ACTIVE", "CREATING")} if ok(query_logs) else set()
    for vpc in _items(vpcs, "Vpcs"):
        tags = tag_map(vpc.get("Tags"))
        vpc_id = vpc["VpcId"]
        errors = {} if ok(flow_logs) else {"flow_logs": why(flow_logs, "ec2:DescribeFlowLogs"),
                                           "flow_log_formats": why(flow_logs, "ec2:DescribeFlowLogs")}
        attributes = {"vpc_id": vpc_id, "cidr": vpc.get("CidrBlock"), "is_default": bool(vpc.get("IsDefault")),
                      "cidrs": [a.get("CidrBlock") for a in vpc.get("CidrBlockAssociationSet", [])
                                if a.get("CidrBlock") and (a.get("CidrBlockState") or {}).get("State", "associated")
                                == "associated"] or [vpc.get("CidrBlock")],
                      "tags": tags}
        if ok(flow_logs):
            mine = [f for f in active if f.get("ResourceId") == vpc_id]
            attributes["flow_logs"] = bool(mine)
            attributes["flow_log_formats"] = [{"id": f.get("FlowLogId"), "traffic_type": f.get("TrafficType"),
                                               "format": f.get("LogFormat") or DEFAULT_FLOW_LOG_FORMAT,
                                               "destination": f.get("LogDestination") or f.get("LogGroupName")}
                                              for f in mine]
        if query_logs is not None and query_logs.status == EvidenceStatus.not_available:
            attributes["dns_query_logging"] = None
        elif ok(query_logs):
            attributes["dns_query_logging"] = vpc_id in logged_vpcs
        else:
            errors["dns_query_logging"] = why(query_logs, "route53resolver:ListResolverQueryLogConfigAssociations")
        account.asset("aws.ec2.vpc", arn(account.partition, "ec2", region, account.account_id, f"vpc/{vpc_id}"), scope,
                      name=name_tag(tags, vpc_id), attributes=attributes, errors=errors,
                      evidence=evidence_ids(vpcs, flow_logs, query_logs))


def derive_internet_gateways(account: AccountEvidence, region: str, scope: str,
                             gateways: EvidenceRecord | None) -> None:
    for gateway in _items(gateways, "InternetGateways"):
        gateway_id = gateway["InternetGatewayId"]
        tags = tag_map(gateway.get("Tags"))
        account.asset("aws.ec2.internet_gateway",
                      arn(account.partition, "ec2", region, account.account_id, f"internet-gateway/{gateway_id}"), scope,
                      name=name_tag(tags, gateway_id), evidence=evidence_ids(gateways),
                      attributes={"gateway_id": gateway_id,
                                  "vpc_ids": [x.get("VpcId") for x in gateway.get("Attachments", [])], "tags": tags})


class Routing:
    """Which route tables send the internet to an internet gateway, and which table each subnet uses."""

    def __init__(self) -> None:
        self.public_table: dict[str, bool] = {}
        self.default_target: dict[str, str | None] = {}
        self.subnet_table: dict[str, str] = {}
        self.main_table: dict[str, str] = {}

    def table_of(self, subnet_id: str, vpc_id: str | None) -> str | None:
        return self.subnet_table.get(subnet_id) or self.main_table.get(vpc_id)

    def subnet_is_public(self, subnet_id: str, vpc_id: str | None) -> bool:
        table = self.table_of(subnet_id, vpc_id)
        return bool(table and self.public_table.get(table))

    def default_route(self, subnet_id: str, vpc_id: str | None) -> str | None:
        """Where the subnet sends traffic for the internet (0.0.0.0/0 or ::/0): an igw-, nat-, tgw-, vgw-,
        vpce- (firewall endpoint), eni- (appliance) or pcx- id; None when it has no such route."""
        table = self.table_of(subnet_id, vpc_id)
        return self.default_target.get(table) if table else None


def _internet_route(route: dict) -> bool:
    return str(route.get("GatewayId", "")).startswith("igw-") and (
        route.get("DestinationCidrBlock") == ANY_IPV4 or route.get("DestinationIpv6CidrBlock") == ANY_IPV6)


_TARGET_KEYS = ("GatewayId", "NatGatewayId", "TransitGatewayId", "NetworkInterfaceId", "VpcPeeringConnectionId",
                "EgressOnlyInternetGatewayId", "InstanceId", "CarrierGatewayId", "LocalGatewayId", "CoreNetworkArn")


def _default_target(routes: list[dict]) -> str | None:
    """The target of the table's default route (an internet gateway first, as it is the direct path)."""
    targets = [next((str(route[k]) for k in _TARGET_KEYS if route.get(k)), None) for route in routes
               if (route.get("DestinationCidrBlock") == ANY_IPV4 or route.get("DestinationIpv6CidrBlock") == ANY_IPV6)
               and route.get("State", "active") == "active"]
    targets = [t for t in targets if t]
    return next((t for t in targets if t.startswith("igw-")), targets[0] if targets else None)


def derive_route_tables(account: AccountEvidence, region: str, scope: str,
                        route_tables: EvidenceRecord | None) -> Routing:
    routing = Routing()
    for table in _items(route_tables, "RouteTables"):
        table_id = table["RouteTableId"]
        public = any(_internet_route(route) for route in table.get("Routes", []))
        routing.public_table[table_id] = public
        routing.default_target[table_id] = _default_target(table.get("Routes", []))
        for association in table.get("Associations", []):
            if association.get("Main"):
                routing.main_table[table.get("VpcId")] = table_id
            elif association.get("SubnetId"):
                routing.subnet_table[association["SubnetId"]] = table_id
        tags = tag_map(table.get("Tags"))
        routes = [{k: route.get(k) for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "GatewayId",
                                             "NatGatewayId", "TransitGatewayId", "NetworkInterfaceId",
                                             "VpcPeeringConnectionId", "State") if route.get(k)}
                  for route in table.get("Routes", [])]
        account.asset("aws.ec2.route_table",
                      arn(account.partition, "ec2", region, account.account_id, f"route-table/{table_id}"), scope,
                      name=name_tag(tags, table_id), evidence=evidence_ids(route_tables),
                      attributes={"route_table_id": table_id, "vpc_id": table.get("VpcId"), "internet_route": public,
                                  "routes": routes})
    return routing


def derive_subnets(account: AccountEvidence, region: str, scope: str, subnets: EvidenceRecord | None,
                   route_tables: EvidenceRecord | None, routing: Routing) -> None:
    for subnet in _items(subnets, "Subnets"):
        subnet_id = subnet["SubnetId"]
        tags = tag_map(subnet.get("Tags"))
        attributes = {"subnet_id": subnet_id, "vpc_id": subnet.get("VpcId"), "cidr": subnet.get("CidrBlock"),
                      "availability_zone": subnet.get("AvailabilityZone"),
                      "map_public_ip": bool(subnet.get("MapPublicIpOnLaunch")), "tags": tags}
        errors = {}
        if route_tables is not None:
            attributes["public"] = routing.subnet_is_public(subnet_id, subnet.get("VpcId"))
            attributes["default_route"] = routing.default_route(subnet_id, subnet.get("VpcId"))
        else:
            errors["public"] = errors["default_route"] = why(account.get("ec2:DescribeRouteTables", region),
                                                             "ec2:DescribeRouteTables")
        account.asset("aws.ec2.subnet", arn(account.partition, "ec2", region, account.account_id, f"subnet/{subnet_id}"),
                      scope, name=name_tag(tags, subnet_id), attributes=attributes, errors=errors,
                      evidence=evidence_ids(subnets, route_tables))


def permissions(rules: list[dict] | None) -> list[dict]:
    """Security-group rules as protocol, port range and sources (CIDRs, groups, prefix lists)."""
    out = []
    for rule in rules or []:
        protocol = str(rule.get("IpProtocol", "-1"))
        low, high = (0, 65535) if protocol == "-1" else (rule.get("FromPort"), rule.get("ToPort"))
        cidrs = [r.get("CidrIp") for r in rule.get("IpRanges", []) if r.get("CidrIp")]
        cidrs += [r.get("CidrIpv6") for r in rule.get("Ipv6Ranges", []) if r.get("CidrIpv6")]
        groups = [g.get("GroupId") for g in rule.get("UserIdGroupPairs", []) if g.get("GroupId")]
        prefix_lists = [g.get("PrefixListId") for g in rule.get("PrefixListIds", []) if g.get("PrefixListId")]
        out.append({"protocol": "all" if protocol == "-1" else protocol, "from_port": low, "to_port": high,
                    "cidrs": cidrs, "groups": groups, "prefix_lists": prefix_lists})
    return out


def _groups_in_use(account: AccountEvidence, region: str, interfaces: EvidenceRecord | None) -> set:
    used = set()
    if ok(interfaces):
        for interface in (interfaces.answer or {}).get("NetworkInterfaces", []):
            used |= {g.get("GroupId") for g in interface.get("Groups", [])}
    instances = account.get("ec2:DescribeInstances", region)
    for reservation in (instances.answer or {}).get("Reservations", []) if ok(instances) else []:
        for instance in reservation.get("Instances", []):
            used |= {g.get("GroupId") for g in instance.get("SecurityGroups", [])}
    return used


def derive_security_groups(account: AccountEvidence, region: str, scope: str, groups: EvidenceRecord | None) -> None:
    interfaces = account.get("ec2:DescribeNetworkInterfaces", region)
    used = _groups_in_use(account, region, interfaces)
    for group in _items(groups, "SecurityGroups"):
        group_id = group["GroupId"]
        attributes = {"group_id": group_id, "group_name": group.get("GroupName"), "vpc_id": group.get("VpcId"),
                      "ingress": permissions(group.get("IpPermissions")),
                      "egress": permissions(group.get("IpPermissionsEgress")), "tags": tag_map(group.get("Tags"))}
        errors = {}
        if ok(interfaces):
            attributes["in_use"] = group_id in used
        else:
            errors["in_use"] = why(interfaces, "ec2:DescribeNetworkInterfaces")
        account.asset("aws.ec2.security_group",
                      arn(account.partition, "ec2", region, account.account_id, f"security-group/{group_id}"), scope,
                      name=group.get("GroupName") or group_id, attributes=attributes, errors=errors,
                      evidence=evidence_ids(groups, interfaces))


def acl_entry(entry: dict) -> dict:
    port_range = entry.get("PortRange") or {}
    protocol = str(entry.get("Protocol", "-1"))
    return {"rule_number": entry.get("RuleNumber"), "egress": bool(entry.get("Egress")),
            "action": entry.get("RuleAction"), "protocol": NACL_PROTOCOLS.get(protocol, protocol),
            "cidr": entry.get("CidrBlock") or entry.get("Ipv6CidrBlock"),
            "from_port": port_range.get("From", 0 if protocol == "-1" else None),
            "to_port": port_range.get("To", 65535 if protocol == "-1" else None)}


def derive_network_acls(account: AccountEvidence, region: str, scope: str, acls: EvidenceRecord | None) -> None:
    for acl in _items(acls, "NetworkAcls"):
        acl_id = acl["NetworkAclId"]
        account.asset("aws.ec2.network_acl",
                      arn(account.partition, "ec2", region, account.account_id, f"network-acl/{acl_id}"), scope,
                      name=name_tag(tag_map(acl.get("Tags")), acl_id), evidence=evidence_ids(acls),
                      attributes={"network_acl_id": acl_id, "vpc_id": acl.get("VpcId"),
                                  "is_default": bool(acl.get("IsDefault")),
                                  "entries": [acl_entry(e) for e in acl.get("Entries", [])],
                                  "subnets": [x.get("SubnetId") for x in acl.get("Associations", [])],
                                  "tags": tag_map(acl.get("Tags"))})
