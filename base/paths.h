#pragma once
// Where the project's files are, so every command works from any working directory (README "Files and
// paths"). The rule, once:
//  - the project root is the folder that holds workloads/ and CMakeLists.txt: found by walking up from a
//    YAML file's folder, else from the running executable's folder (build/sushi, build/tests/...);
//  - the shared data folder is $SUSHI_DATA when set, else ../shared/data beside the project root;
//  - a relative path written inside a YAML file (an experiment's supernet, accelerators, profile,
//    accuracy_table) is looked up relative to that file's project root, then the file's own folder, then
//    the working directory; one that starts with ../shared/data/ names a file in the shared data folder;
//  - paths on the command line and output folders are relative to the working directory, as usual.
#include <string>
#include <vector>

namespace sushi {

// The project root holding `file` (walking up from its folder), else the executable's; "" when neither.
std::string project_root(const std::string& file = "");
// $SUSHI_DATA, else <root>/../shared/data (root: the given project root, else the executable's), else
// ../shared/data relative to the working directory.
std::string data_dir(const std::string& project = "");
// A file of the shared data folder; throws InputError naming the file, where it looked and how to fix it.
std::string data_file(const std::string& name);
// A relative path that `yaml_file` names, resolved by the rule above. Returns "" when no candidate exists
// and then lists the candidates in `tried`.
std::string resolve_yaml_path(const std::string& given, const std::string& yaml_file,
                              std::vector<std::string>* tried = nullptr);
// A built-in default path of the project (e.g. workloads/supernets/ofa_mbv3.yaml): as given when it exists
// from the working directory, else under the executable's project root.
std::string project_file(const std::string& relative);

}  // namespace sushi
