#include "apps/completion.hpp"

#include <algorithm>
#include <cctype>
#include <ostream>
#include <sstream>

#include "apps/cli.hpp"

namespace fedhub::cli {

namespace {

bool mentions_file(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text.find("file") != std::string::npos || text.find("directory") != std::string::npos;
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string word;
  std::istringstream in(text);
  while (std::getline(in, word, sep))
    if (!word.empty()) out.push_back(word);
  return out;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool is_lower_word(const std::string& w) {
  return !w.empty() && std::islower(static_cast<unsigned char>(w[0])) &&
         std::all_of(w.begin(), w.end(),
                     [](unsigned char c) { return std::islower(c) || std::isdigit(c) || c == '-'; });
}

// "[--merge" -> "--merge"; "V]" -> "V"; "fedavg|mean]" -> "fedavg|mean".
std::string strip(std::string w) {
  while (!w.empty() && (w.front() == '[' || w.front() == '(')) w.erase(w.begin());
  while (!w.empty() && (w.back() == ']' || w.back() == ')' || w.back() == ',')) w.pop_back();
  return w;
}

// The options named in a synopsis text, merged into `into`.
void add_synopsis_options(const std::string& synopsis, std::vector<CompletionOption>& into) {
  const auto words = words_of(synopsis);
  for (size_t i = 0; i < words.size(); ++i) {
    const auto w = strip(words[i]);
    if (w.size() < 3 || w.rfind("--", 0) != 0) continue;
    CompletionOption o;
    o.name = w.substr(0, w.find('='));
    // "--aggregator fedavg|mean]": the value, unless the option's bracket closes first.
    const bool closed = words[i].back() == ']' || words[i].back() == ')';
    if (!closed && i + 1 < words.size()) {
      const auto& raw = words[i + 1];
      const auto v = strip(raw);
      if (!v.empty() && raw.front() != '[' && raw.front() != '-' && v != "...") {
        o.takes_value = true;
        if (v.find('|') != std::string::npos || is_lower_word(v))
          o.values = split(v, '|');
        else
          o.file_value = v == "FILE" || v == "F" || v == "DIR";
      }
    }
    auto same = std::find_if(into.begin(), into.end(), [&](const auto& x) { return x.name == o.name; });
    if (same == into.end()) {
      into.push_back(o);
    } else {
      same->takes_value = same->takes_value || o.takes_value;
      same->file_value = same->file_value || o.file_value;
      for (const auto& v : o.values)
        if (std::find(same->values.begin(), same->values.end(), v) == same->values.end()) same->values.push_back(v);
    }
  }
}

// The synopsis part of a command line: up to the description column (two
// or more blanks after the synopsis has begun).
std::string synopsis_of(const std::string& line) {
  const auto begin = line.find_first_not_of(' ');
  if (begin == std::string::npos) return {};
  const auto gap = line.find("  ", begin);
  return line.substr(begin, gap == std::string::npos ? std::string::npos : gap - begin);
}

std::string function_name(const std::string& program) {
  std::string out = "_fedhub_";
  for (char c : program) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// A single-quoted bash word.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// case arms for the value after an option: listed values, files, or nothing.
void value_arms(std::ostream& out, const std::vector<CompletionOption>& options, const std::string& indent) {
  std::vector<std::string> files, free;
  for (const auto& o : options) {
    if (!o.takes_value) continue;
    if (!o.values.empty())
      out << indent << o.name << ") COMPREPLY=($(compgen -W " << quoted(joined(o.values))
          << " -- \"$cur\")); return 0 ;;\n";
    else
      (o.file_value ? files : free).push_back(o.name);
  }
  auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += (s.empty() ? "" : "|") + n;
    return s;
  };
  if (!files.empty()) out << indent << names(files) << ") COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n";
  if (!free.empty()) out << indent << names(free) << ") COMPREPLY=(); return 0 ;;\n";
}

std::vector<std::string> names_of(const std::vector<CompletionOption>& options) {
  std::vector<std::string> out;
  for (const auto& o : options) out.push_back(o.name);
  return out;
}

}  // namespace

std::vector<CompletionOption> completion_options(const boost::program_options::options_description& d) {
  std::vector<CompletionOption> out;
  for (const auto& opt : d.options()) {
    const auto& name = opt->long_name();
    if (name.empty()) continue;
    CompletionOption o;
    o.name = "--" + name;
    o.takes_value = opt->semantic()->max_tokens() > 0;
    o.file_value = o.takes_value && mentions_file(opt->description());
    out.push_back(o);
  }
  return out;
}

std::vector<CompletionCommand> completion_commands(const std::string& usage) {
  std::vector<std::string> lines = split(usage, '\n');
  auto start = std::find_if(lines.begin(), lines.end(), [](const auto& l) { return l.rfind("Commands:", 0) == 0; });
  auto it = start == lines.end() ? lines.begin() : start + 1;
  std::vector<CompletionCommand> out;
  CompletionCommand* current = nullptr;
  for (; it != lines.end(); ++it) {
    const auto& line = *it;
    if (line.find_first_not_of(' ') == std::string::npos) continue;
    if (line[0] != ' ') {
      if (!out.empty() || start != lines.end()) break;  // the list ended
      continue;                                         // text before a bare list
    }
    const auto indent = line.find_first_not_of(' ');
    if (indent == 2 && std::islower(static_cast<unsigned char>(line[2]))) {
      const auto synopsis = synopsis_of(line);
      const auto words = words_of(synopsis);
      auto same = std::find_if(out.begin(), out.end(), [&](const auto& c) { return c.name == words[0]; });
      if (same == out.end()) {
        out.push_back({words[0], {}, {}});
        same = out.end() - 1;
      }
      current = &*same;
      if (words.size() > 1 && is_lower_word(words[1]) &&
          std::find(current->subcommands.begin(), current->subcommands.end(), words[1]) == current->subcommands.end())
        current->subcommands.push_back(words[1]);
      add_synopsis_options(synopsis, current->options);
    } else if (current && (line[indent] == '[' || line[indent] == '-')) {
      add_synopsis_options(synopsis_of(line), current->options);  // a synopsis continued
    }
  }
  return out;
}

CompletionSpec completion_spec_by_usage(const std::string& program,
                                        const boost::program_options::options_description& d,
                                        const std::string& usage) {
  CompletionSpec spec{program, {}, completion_commands(usage)};
  const auto table = completion_options(d);
  auto named = [&](const std::string& name) {
    for (const auto& c : spec.commands)
      for (const auto& o : c.options)
        if (o.name == name) return true;
    return false;
  };
  for (const auto& o : table)
    if (!named(o.name)) spec.options.push_back(o);
  for (auto& c : spec.commands)
    for (auto& o : c.options)
      for (const auto& t : table)
        if (t.name == o.name) {
          o.takes_value = t.takes_value;
          o.file_value = t.file_value;
        }
  return spec;
}

std::string bash_completion(const CompletionSpec& given) {
  CompletionSpec spec = given;
  if (std::none_of(spec.commands.begin(), spec.commands.end(), [](const auto& c) { return c.name == "completion"; }))
    spec.commands.push_back({"completion", {"bash"}, {}});
  const auto fn = function_name(spec.program);
  // Every option that takes a value, so that the scan skips values.
  std::vector<std::string> valued;
  auto note = [&](const std::vector<CompletionOption>& options) {
    for (const auto& o : options)
      if (o.takes_value && std::find(valued.begin(), valued.end(), o.name) == valued.end()) valued.push_back(o.name);
  };
  note(spec.options);
  for (const auto& c : spec.commands) note(c.options);
  std::string valued_list(1, '|');  // "|--hub|--key|"
  for (const auto& v : valued) valued_list.append(v).push_back('|');
  std::vector<std::string> commands;
  for (const auto& c : spec.commands) commands.push_back(c.name);
  const auto globals = names_of(spec.options);

  std::ostringstream out;
  out << "# bash completion for " << spec.program << ", generated by `" << spec.program
      << " completion bash` from its option tables and command list.\n"
      << "# Use: source <(" << spec.program << " completion bash)\n"
      << fn << "() {\n"
      << "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"\" command=\"\" args=0 i w words\n"
      << "  ((COMP_CWORD > 0)) && prev=\"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
      << "  local valued=" << quoted(valued_list) << "\n"
      << "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      << "    w=\"${COMP_WORDS[i]}\"\n"
      << "    if [[ $w == -* ]]; then\n"
      << "      [[ $w != *=* && $valued == *\"|$w|\"* ]] && i=$((i + 1))\n"
      << "    elif [[ -z $command ]]; then\n"
      << "      command=\"$w\"\n"
      << "    else\n"
      << "      args=$((args + 1))\n"
      << "    fi\n"
      << "  done\n"
      << "  words=" << quoted(joined(globals)) << "\n"
      << "  case \"$command\" in\n"
      << "    \"\")\n";
  if (!commands.empty()) out << "      [[ $cur != -* ]] && words=" << quoted(joined(commands)) << "\n";
  out << "      ;;\n";
  for (const auto& c : spec.commands) {
    out << "    " << c.name << ")\n";
    std::vector<CompletionOption> own;
    for (const auto& o : c.options)
      if (std::find(globals.begin(), globals.end(), o.name) == globals.end()) own.push_back(o);
    std::ostringstream arms;
    value_arms(arms, own, "        ");
    if (!arms.str().empty()) out << "      case \"$prev\" in\n" << arms.str() << "      esac\n";
    if (!own.empty()) out << "      words=" << quoted(joined(names_of(own))) << "\" $words\"\n";
    if (!c.subcommands.empty())
      out << "      ((args == 0)) && [[ $cur != -* ]] && words=" << quoted(joined(c.subcommands)) << "\n";
    out << "      ;;\n";
  }
  out << "  esac\n";
  std::ostringstream arms;
  value_arms(arms, spec.options, "    ");
  if (!arms.str().empty()) out << "  case \"$prev\" in\n" << arms.str() << "  esac\n";
  out << "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      << "  return 0\n"
      << "}\n"
      << "complete -F " << fn << " " << spec.program << "\n";
  return out.str();
}

int completion_main(const std::vector<std::string>& args, const CompletionSpec& spec, std::ostream& out) {
  if (args.size() != 2 || args[1] != "bash") throw UsageError("completion needs the shell: completion bash");
  out << bash_completion(spec);
  return kOk;
}

}  // namespace fedhub::cli
