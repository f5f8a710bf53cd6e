import Foundation
import Testing

@testable import PerfCore

@Suite struct ConfigClusterTests {
    private func clusterProblems(_ text: String) throws -> (tree: ConfigTree, problems: [UserError]) {
        let tree = try ConfigTree(cluster: text)
        return (tree, ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCluster(file: tree.clusterFile) })
    }

    @Test func loadsSettingsWithDefaultsAndResolvedFolders() throws {
        let tree = try ConfigTree(cluster: """
            vendor: cpu
            results_dir: out
            ssh: {user: perf, identity: ~/.ssh/id_ed25519}
            hosts:
              - address: localhost
              - address: 10.0.0.12
                name: node1
                ssh: {port: 2222}

            """)
        let cluster = try ConfigLoader.loadCluster(file: tree.clusterFile)
        #expect(cluster.file == tree.clusterFile)
        #expect(cluster.vendor == "cpu")
        #expect(cluster.resultsDirectory == tree.path("out"))
        #expect(cluster.casesDirectory == tree.path("cases"))
        #expect(cluster.vendorsDirectory == tree.path("vendors"))
        #expect(cluster.masterPort == 29500)
        #expect(cluster.agentRoot == "~/.perf-agent")
        #expect(cluster.hosts == [
            HostConfig(name: "localhost", address: "localhost",
                       ssh: SSHSettings(port: 22, user: "perf", identity: "~/.ssh/id_ed25519")),
            HostConfig(name: "node1", address: "10.0.0.12",
                       ssh: SSHSettings(port: 2222, user: "perf", identity: "~/.ssh/id_ed25519")),
        ])
        #expect(cluster.source["hosts[1].ssh.port"]?.description == "\(tree.clusterFile):8:17")
    }

    @Test func siteEnvironmentIsReadAndItsValuesMustBeStrings() throws {
        let tree = try ConfigTree(cluster: "vendor: cpu\nenv: {GLOO_SOCKET_IFNAME: eth0}\nhosts: [{address: localhost}]\n")
        #expect(try ConfigLoader.loadCluster(file: tree.clusterFile).env == ["GLOO_SOCKET_IFNAME": "eth0"])
        let (bad, problems) = try clusterProblems("vendor: cpu\nenv:\n  THREADS: 4\nhosts: [{address: localhost}]\n")
        #expect(problems.count == 1)
        #expect(problems.first?.location == "\(bad.clusterFile):3:12")
        #expect(problems.first?.fix?.contains("THREADS: \"4\"") == true)
    }

    @Test func unknownKeyNamesFileLineAndSuggestion() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            master_prot: 29500
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:1",
                         message: ["unknown key `master_prot`"], fix: ["did you mean `master_port`?"])
    }

    @Test func unknownKeyWithoutCloseMatchListsTheValidKeys() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts: [{address: localhost}]
            colour: blue

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):3:1",
                         message: ["unknown key `colour`"], fix: ["`vendor`", "`master_port`", "`hosts`"])
    }

    @Test func unknownNestedKeyNamesItsPath() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts:
              - address: localhost
                nmae: local

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):4:5",
                         message: ["unknown key `nmae` in `hosts[0]`"], fix: ["did you mean `name`?"])
    }

    @Test func stringWhereWholeNumberIsExpected() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            master_port: http
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:14",
                         message: ["`master_port` must be a whole number from 1 to 65535", "the string \"http\""],
                         fix: ["`master_port: 29500`"])
    }

    @Test func quotedNumberIsToldToDropTheQuotes() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            master_port: "29500"
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:14",
                         message: ["`master_port` must be a whole number"], fix: ["remove the quotes: `master_port: 29500`"])
    }

    @Test func listWhereMappingIsExpected() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            ssh: [22]
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:6",
                         message: ["`ssh` must be a mapping", "a list"], fix: ["ssh: {port: 22, user: root}"])
    }

    @Test func nullValueIsReportedAsMissingValue() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: null
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):1:9",
                         message: ["`vendor` has no value", "`null`"], fix: ["`vendor: cpu`"])
        #expect(problems.first?.fix?.contains("default") == false, "a required key has no default")
    }

    @Test func emptyValueIsReportedAsMissingValue() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            results_dir:
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:13",
                         message: ["`results_dir` has no value (empty)"], fix: ["`results_dir: results`", "remove the line"])
    }

    @Test func missingRequiredKeyPointsAtTheMappingThatLacksIt() throws {
        let (tree, problems) = try clusterProblems("""
            # a comment first
            hosts:
              - address: localhost
              - name: node1

            """)
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(tree.clusterFile):2:1",
                      message: ["missing required key `vendor`"], fix: ["add `vendor: cpu`"])
        expectProblem(problems[1], at: "\(tree.clusterFile):4:5",
                      message: ["missing required key `address` in `hosts[1]`"], fix: ["add `address: node1`"])
    }

    @Test func portOutsideTheTCPRangeIsRefused() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts:
              - address: node1
                ssh: {port: 70000}

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):4:17",
                         message: ["`hosts[0].ssh.port` is 70000", "from 1 to 65535"], fix: ["`port: 22`"])
    }

    @Test func emptyHostListIsRefused() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts: []

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):2:8",
                         message: ["`hosts` is an empty list"], fix: ["- address: localhost"])
    }

    @Test func duplicateHostNameIsReportedAtTheSecondHost() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts:
              - {address: 10.0.0.11, name: node}
              - {address: 10.0.0.12, name: node}

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):4:32",
                         message: ["host name `node` of `hosts[1]` is already used by `hosts[0]` at line 3, column 32"],
                         fix: ["unique `name:`"])
    }

    @Test func duplicateAddressAndPortIsReportedAtTheSecondHost() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            ssh: {port: 2200}
            hosts:
              - {address: 10.0.0.11, name: a}
              - {address: 10.0.0.11, name: b, ssh: {port: 2201}}
              - {address: 10.0.0.11, name: c}

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):6:15",
                         message: ["`hosts[2]` is 10.0.0.11 (ssh port 2200), the same machine as `hosts[0]` at line 4, column 15"],
                         fix: ["list each machine once", "127.0.0.2"])
    }

    @Test func addressWithShellMetacharacterIsRefused() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts:
              - address: node1;reboot
                name: node1

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):3:14",
                         message: ["`hosts[0].address` \"node1;reboot\" contains `;`"], fix: ["`address: node1`"])
    }

    @Test func addressWithUserOrPortPointsToTheSSHSettings() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts:
              - {address: root@node1, name: a}
              - {address: "node 2", name: b}
              - {address: node3:2222, name: c}

            """)
        #expect(problems.count == 3, "\(problems)")
        expectProblem(problems[0], at: "\(tree.clusterFile):3:15", message: ["contains `@`"], fix: ["ssh: {user: root}"])
        expectProblem(problems[1], at: "\(tree.clusterFile):4:15", message: ["contains whitespace"], fix: ["`address: node1`"])
        expectProblem(problems[2], at: "\(tree.clusterFile):5:15", message: ["contains one `:`"], fix: ["ssh: {port: 2222}"])
    }

    @Test func hostNameDefaultsToTheAddressOnlyWhenItIsAFolderName() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: cpu
            hosts:
              - address: "::1"
              - address: 127.0.0.2
                name: ../up

            """)
        #expect(problems.count == 2, "\(problems)")
        expectProblem(problems[0], at: "\(tree.clusterFile):3:14",
                      message: ["`hosts[0]` has no `name`", "`::1` cannot stand in for one"], fix: ["`name: node0`"])
        expectProblem(problems[1], at: "\(tree.clusterFile):5:11",
                      message: ["`hosts[1].name` is \"../up\", but it must be a name of letters, digits"],
                      fix: ["`name: node1`"])
    }

    @Test func vendorMustBeAFolderName() throws {
        let (tree, problems) = try clusterProblems("""
            vendor: ../cpu
            hosts: [{address: localhost}]

            """)
        expectOneProblem(problems, at: "\(tree.clusterFile):1:9",
                         message: ["`vendor` is \"../cpu\", but it must be the name of a folder"], fix: ["`vendor: cpu`"])
    }

    @Test func missingClusterFileSaysWhereItLookedAndHowToPassAnother() throws {
        let tree = try ConfigTree(cluster: nil)
        let problems = ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCluster(file: tree.clusterFile) }
        expectOneProblem(problems, at: tree.clusterFile,
                         message: ["cluster.yaml not found at \(tree.clusterFile)"], fix: ["create it", "--cluster FILE"])
    }

    @Test func clusterPathThatIsAFolderIsRefused() throws {
        let tree = try ConfigTree()
        let problems = ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCluster(file: tree.path("cases")) }
        expectOneProblem(problems, at: tree.path("cases"), message: ["is a directory, not a YAML file"], fix: ["the YAML file itself"])
    }

    @Test func folderPathsInMessagesFollowTheGivenClusterPath() {
        let cluster = ConfigPath(display: "lab/cluster.yaml", absolute: "/srv/lab/cluster.yaml")
        let demo = cluster.parent.resolving("../cases").appending("demo")
        #expect(demo == ConfigPath(display: "cases/demo", absolute: "/srv/cases/demo"))
        #expect(ConfigPath(display: "cluster.yaml", absolute: "/srv/cluster.yaml").parent.resolving("cases")
            == ConfigPath(display: "cases", absolute: "/srv/cases"))
    }

    @Test func pathsInMessagesAreKeptAsTheCallerGaveThem() throws {
        let tree = try ConfigTree(cluster: "vendor: cpu\nhosts: 3\n")
        let given = tree.root + "/./cases/../cluster.yaml"
        let problems = ConfigTree.problems { () throws(UserErrors) in try ConfigLoader.loadCluster(file: given) }
        expectOneProblem(problems, at: "\(given):2:8", message: ["`hosts` must be a list"], fix: [])
    }
}
