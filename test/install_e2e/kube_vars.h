// The kubelet's $(VAR) expansion of a container's command, args and env values.
#pragma once

#include <map>
#include <string>

namespace cmesh::install_e2e {

// $(NAME) of a variable in `env` is replaced by its value; $$ is a literal $ (so $$(NAME) stays
// $(NAME)); any other $ (an unknown name, no closing parenthesis) stays as written.
std::string ExpandKubeVars(const std::string& text, const std::map<std::string, std::string>& env);

}  // namespace cmesh::install_e2e
