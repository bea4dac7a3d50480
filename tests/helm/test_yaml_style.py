"""yamllint over the chart's values, its CI variants, everything under k8s/ and the GitHub
workflows."""

from tests.helm import support


def test_yaml_files_pass_yamllint():
    try:
        from yamllint import config, linter
    except ImportError as error:
        raise AssertionError(support.install_hint("yamllint")) from error
    rules = config.YamlLintConfig(file=str(support.ROOT / "tests" / "helm" / "yamllint.yaml"))
    paths = [
        support.CHART / "Chart.yaml",
        support.CHART / "values.yaml",
        *support.CI_VALUES,
        *sorted((support.ROOT / "k8s").rglob("*.yaml")),
        *sorted((support.ROOT / ".github" / "workflows").glob("*.yaml")),
    ]
    problems = [
        f"{path.relative_to(support.ROOT)}:{problem.line}: {problem.desc} ({problem.rule})"
        for path in paths
        for problem in linter.run(path.read_text(), rules, str(path))
    ]
    assert not problems, "\n".join(problems)
